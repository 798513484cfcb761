// The people's page of agentq: the board, a task, the disagreement log, the
// agreement table, the tasks that need a person, and a form to add one.
// It uses only the HTTP API (docs/api.md) with the token the person pasted.
//
// Agents write most of what this page shows (titles, bodies, summaries,
// reasons), so every text from the API is set with textContent (el() below),
// never parsed as HTML. The server's Content-Security-Policy forbids inline
// script as a second wall.
'use strict';

const TOKEN_KEY = 'agentq_token';
const RETRY_MS = 2000;        // after a failed call, before the next
const FOLLOW_WAIT_S = 25;     // one long-poll of the event feed
const CALL_DEADLINE_MS = 60000;
const STATES = ['queued', 'working', 'awaiting_review', 'reviewing', 'needs_human', 'done',
                'failed', 'cancelled'];

const state = {
  whoami: null,       // {name, role}
  cursor: null,       // the last event id seen (GET /v1/events)
  serverLost: false,
  following: null,    // the follow timer
  refreshing: false,
  refreshAgain: false,
};

// ------------------------------------------------------------------ DOM

// An element with attributes and children; strings become text nodes.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key.startsWith('data-')) node.setAttribute(key, String(value));
    else if (key in node && typeof node[key] !== 'function') node[key] = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number'
      ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function $(id) { return document.getElementById(id); }

function clear(node) { node.replaceChildren(); return node; }

function text(value) { return value === null || value === undefined ? '' : String(value); }

function showMessage(message, kind) {
  const box = $('message');
  box.textContent = message;
  box.className = 'message ' + (kind || 'error');
  box.hidden = !message;
}

function setConnection(lost) {
  state.serverLost = lost;
  const badge = $('connection');
  badge.hidden = false;
  badge.textContent = lost ? 'server lost — retrying' : 'live';
  badge.className = 'connection ' + (lost ? 'lost' : 'live');
}

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// One API call. Errors become an ApiError whose message a person can act on.
async function api(method, path, body) {
  const headers = { 'Authorization': 'Bearer ' + (sessionStorage.getItem(TOKEN_KEY) || '') };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', signal: AbortSignal.timeout(CALL_DEADLINE_MS),
    });
  } catch (e) {
    setConnection(true);
    throw new ApiError(0, 'unreachable',
      'The agentq server does not answer (is `agentq serve` running?). The page keeps trying.');
  }
  if (state.serverLost) setConnection(false);
  let answer = null;
  const raw = await response.text();
  if (raw) {
    try { answer = JSON.parse(raw); } catch (e) { answer = null; }
  }
  if (response.ok) return answer;
  const code = answer && answer.error ? answer.error.code : 'http_' + response.status;
  const said = answer && answer.error ? answer.error.message : raw;
  if (response.status === 401) {
    throw new ApiError(401, code, 'The token was refused (401: ' + said + '). ' +
      'Paste a valid token: `agentq agent add NAME --role admin` makes one.');
  }
  if (response.status === 403) {
    const role = state.whoami ? state.whoami.role : 'this';
    throw new ApiError(403, code, 'Forbidden (403): the ' + role + ' role may not do this; ' +
      'it needs an admin token. (' + said + ')');
  }
  if (response.status === 503) {
    throw new ApiError(503, code, 'The server cannot do this right now (503: ' + said + '). ' +
      'Try again in a moment.');
  }
  throw new ApiError(response.status, code, said + ' (' + response.status + ' ' + code + ')');
}

// Runs a page action: shows its error, or its success message.
async function act(action, success) {
  try {
    await action();
    if (success) showMessage(success, 'ok');
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut(e.message), false;
    showMessage(e.message || String(e));
    return false;
  }
}

// Every page of a listing that pages with `next`.
async function allTasks(query) {
  let tasks = [];
  let after = '';
  for (let page = 0; page < 20; page++) {
    const answer = await api('GET', '/v1/tasks?limit=1000' + (query || '') +
      (after ? '&after=' + after : ''));
    tasks = tasks.concat(answer.tasks);
    if (answer.next === null || answer.next === undefined) break;
    after = answer.next;
  }
  return tasks;
}

// The whole disagreement log, 100 entries a page (the API's most), newest first.
async function allDisagreements() {
  let entries = [];
  let after = '';
  for (let page = 0; page < 100; page++) {
    const answer = await api('GET', '/v1/disagreements?status=all&limit=100' +
      (after ? '&after=' + after : ''));
    entries = entries.concat(answer.disagreements);
    if (answer.next === null || answer.next === undefined) break;
    after = answer.next;
  }
  return entries;
}

// ------------------------------------------------------------------ formatting

function leaseLeft(expiresAt) {
  if (!expiresAt) return '';
  const seconds = Math.round((Date.parse(expiresAt) - Date.now()) / 1000);
  if (seconds <= 0) return 'lease expired';
  if (seconds < 120) return seconds + ' s left';
  return Math.round(seconds / 60) + ' min left';
}

function when(at) { return at ? text(at).replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }

function isAdmin() { return state.whoami && state.whoami.role === 'admin'; }

function diffStatsNode(stats) {
  if (!stats) return el('p', { class: 'muted', text: 'diff stats unavailable (the server could not read the repository)' });
  return el('div', { class: 'diffstats' },
    el('p', { class: 'diffsum' }, text(stats.files_changed) + ' file(s), ',
      el('span', { class: 'plus', text: '+' + text(stats.insertions) }), ' ',
      el('span', { class: 'minus', text: '-' + text(stats.deletions) })),
    el('ul', {}, (stats.files || []).map((f) => el('li', {},
      el('code', { text: text(f.status) + ' ' + text(f.path) }), ' ',
      el('span', { class: 'plus', text: '+' + text(f.insertions) }), ' ',
      el('span', { class: 'minus', text: '-' + text(f.deletions) })))),
    stats.files_truncated ? el('p', { class: 'muted', text: '(more files than listed)' }) : null);
}

function table(headings, rows, attrs) {
  return el('div', { class: 'table-wrap' }, el('table', attrs || {},
    el('thead', {}, el('tr', {}, headings.map((h) => el('th', { text: h })))),
    el('tbody', {}, rows)));
}

// ------------------------------------------------------------------ views

const views = {};

views.board = async function () {
  const tasks = await allTasks('');
  const held = tasks.filter((t) => t.state === 'working' || t.state === 'reviewing');
  const details = await Promise.all(held.map((t) => api('GET', '/v1/tasks/' + t.id)
    .catch(() => null)));
  const holder = {};
  for (const d of details) {
    if (!d) continue;
    const live = d.claims.filter((c) => c.ended_at === null).pop();
    if (live) holder[d.task.id] = live;
  }
  const counts = clear($('board-counts'));
  const columns = clear($('board-columns'));
  for (const s of STATES) {
    const mine = tasks.filter((t) => t.state === s);
    counts.append(el('a', { class: 'count state-' + s, href: '#board-' + s, 'data-state': s },
      el('span', { class: 'count-name', text: s.replace('_', ' ') }),
      el('span', { class: 'count-value', 'data-count': s, text: String(mine.length) })));
    columns.append(el('section', { class: 'column', id: 'board-' + s, 'data-column': s },
      el('h3', {}, s.replace('_', ' ') + ' ', el('span', { class: 'muted', text: '(' + mine.length + ')' })),
      mine.slice(0, 200).map((t) => taskCard(t, holder[t.id]))));
  }
};

function taskCard(t, claim) {
  return el('a', { class: 'card', href: '#task/' + t.id, 'data-task': t.id },
    el('div', { class: 'card-title' }, el('span', { class: 'muted', text: '#' + t.id + ' ' }),
      el('span', { class: 'title', text: t.title })),
    el('div', { class: 'card-meta', text: text(t.repo) + ' · ' + text(t.queue) +
      ' · attempt ' + t.attempt + '/' + t.max_attempts + ' · round ' + t.review_round }),
    claim ? el('div', { class: 'card-holder', text: claim.agent + ' (' + claim.role + ') · ' +
      leaseLeft(claim.lease_expires_at) }) : null);
}

views.task = async function (id) {
  const root = clear($('task-detail'));
  const d = await api('GET', '/v1/tasks/' + encodeURIComponent(id));
  const t = d.task;
  const entries = (await allDisagreements()).filter((x) => x.task_id === t.id);
  root.append(
    el('h2', {}, el('span', { class: 'muted', text: '#' + t.id + ' ' }), el('span', { class: 'title', text: t.title })),
    el('p', { class: 'meta' },
      el('span', { class: 'state state-' + t.state, text: t.state }),
      ' ' + text(t.repo) + ' · queue ' + text(t.queue) + ' · priority ' + t.priority +
      ' · attempt ' + t.attempt + '/' + t.max_attempts + ' · review round ' + t.review_round +
      '/' + t.max_review_rounds +
      (t.depends_on.length ? ' · depends on ' + t.depends_on.join(', ') : '')),
    el('h3', { text: 'Description' }),
    el('pre', { class: 'body', id: 'task-body', text: t.body }),
    el('h3', { text: 'Claims' }),
    d.claims.length ? table(['token', 'agent', 'role', 'claimed', 'lease', 'outcome', 'progress'],
      d.claims.map((c) => el('tr', {},
        el('td', { text: c.token }), el('td', { text: c.agent }), el('td', { text: c.role }),
        el('td', { text: when(c.claimed_at) }),
        el('td', { text: c.ended_at ? 'ended ' + when(c.ended_at) : leaseLeft(c.lease_expires_at) }),
        el('td', { text: c.outcome || 'live' }), el('td', { text: c.progress || '' }))))
      : el('p', { class: 'muted', text: 'no claims yet' }),
    el('h3', { text: 'Submissions' }),
    d.submissions.length ? el('div', {}, d.submissions.map((s) => {
      const entry = entries.find((x) => x.commit === s.commit);
      const box = el('div', { class: 'diff-holder' });
      if (entry) loadDiffStats(entry.id, box);
      return el('article', { class: 'submission' },
        el('p', { class: 'meta', text: when(s.created_at) + ' · ' + s.worker + ' · token ' + s.token }),
        el('p', {}, 'branch ', el('code', { text: s.branch }), ' commit ', el('code', { text: s.commit })),
        el('pre', { text: s.summary }), box);
    })) : el('p', { class: 'muted', text: 'no submissions yet' }),
    el('h3', { text: 'Reviews' }),
    d.reviews.length ? el('div', {}, d.reviews.map((r) => el('article', { class: 'review verdict-' + r.verdict },
      el('p', { class: 'meta', text: when(r.created_at) + ' · ' + r.reviewer + ' · ' + r.verdict }),
      el('pre', { text: r.reasons })))) : el('p', { class: 'muted', text: 'no reviews yet' }),
    el('h3', { text: 'Feedback' }),
    d.feedback.length ? el('div', {}, d.feedback.map((f) => el('article', { class: 'feedback' },
      el('p', { class: 'meta', text: 'round ' + f.round + ' · ' + f.source + ' · ' + f.author }),
      el('pre', { text: f.text })))) : el('p', { class: 'muted', text: 'no feedback' }),
    el('h3', { text: 'Merge' }),
    mergeNode(d.events),
    el('h3', { text: 'History' }),
    el('ol', { class: 'timeline' }, d.events.map((e) => el('li', { 'data-kind': e.kind },
      el('span', { class: 'meta', text: when(e.at) + ' ' }),
      el('strong', { text: e.kind }), ' by ' + text(e.actor) +
      (e.from_state ? ' · ' + e.from_state + ' → ' + e.to_state : '') +
      (e.token ? ' · token ' + e.token : ''),
      eventDetail(e)))));
};

function mergeNode(events) {
  const merged = events.filter((e) => e.kind === 'merged' || e.kind === 'merge_conflict').pop();
  if (!merged) return el('p', { class: 'muted', text: 'not merged' });
  return el('p', { text: merged.kind + ' at ' + when(merged.at) + ' ' + JSON.stringify(merged.detail) });
}

function eventDetail(e) {
  if (!e.detail || !Object.keys(e.detail).length) return null;
  if (e.kind === 'amended') {
    return el('details', {}, el('summary', { text: 'the description before' }),
      el('pre', { text: e.detail.old_body }), e.detail.note ? el('p', { text: 'note: ' + e.detail.note }) : null);
  }
  return el('pre', { class: 'detail', text: JSON.stringify(e.detail) });
}

async function loadDiffStats(disagreementId, box) {
  try {
    const answer = await api('GET', '/v1/disagreements/' + disagreementId);
    box.replaceChildren(diffStatsNode(answer.diff_stats));
  } catch (e) {
    box.replaceChildren(el('p', { class: 'muted', text: 'diff stats: ' + e.message }));
  }
}

let disagreementCache = { entries: [], repoOf: {} };

views.disagreements = async function () {
  const [entries, tasks] = await Promise.all([allDisagreements(), allTasks('')]);
  const repoOf = {};
  for (const t of tasks) repoOf[t.id] = t.repo;
  disagreementCache = { entries, repoOf };
  fillFilter('filter-repo', entries.map((d) => repoOf[d.task_id]));
  fillFilter('filter-worker', entries.map((d) => d.worker));
  fillFilter('filter-reviewer', entries.map((d) => d.reviewer));
  renderDisagreements();
};

function fillFilter(id, values) {
  const select = $(id);
  const chosen = select.value;
  const names = [...new Set(values.filter((v) => v))].sort();
  select.replaceChildren(el('option', { value: '', text: 'any' }),
    ...names.map((n) => el('option', { value: n, text: n })));
  select.value = names.includes(chosen) ? chosen : '';
}

function renderDisagreements() {
  const { entries, repoOf } = disagreementCache;
  const status = $('filter-status').value;
  const repo = $('filter-repo').value;
  const worker = $('filter-worker').value;
  const reviewer = $('filter-reviewer').value;
  const shown = entries
    .filter((d) => status === 'all' || d.status === status)
    .filter((d) => !repo || repoOf[d.task_id] === repo)
    .filter((d) => !worker || d.worker === worker)
    .filter((d) => !reviewer || d.reviewer === reviewer)
    .sort((a, b) => (a.status === b.status ? b.id - a.id : a.status === 'open' ? -1 : 1));
  const list = clear($('disagreement-list'));
  if (!shown.length) list.append(el('p', { class: 'muted', text: 'no disagreements match' }));
  for (const d of shown) list.append(disagreementNode(d, repoOf[d.task_id]));
}

function disagreementNode(d, repo) {
  const diff = el('div', { class: 'diff-holder' }, el('p', { class: 'muted', text: 'loading diff stats…' }));
  loadDiffStats(d.id, diff);
  return el('article', { class: 'disagreement status-' + d.status, 'data-id': d.id, 'data-status': d.status },
    el('h3', {}, el('span', { class: 'badge', text: d.status }), ' ',
      el('a', { href: '#task/' + d.task_id }, el('span', { class: 'muted', text: '#' + d.task_id + ' ' }),
        el('span', { class: 'title', text: d.task_title }))),
    el('p', { class: 'meta', text: 'entry ' + d.id + ' · ' + d.kind + ' · round ' + d.round + ' · ' +
      text(repo) + ' · commit ' + text(d.commit).slice(0, 12) + ' · ' + when(d.created_at) }),
    el('div', { class: 'sides' },
      el('div', { class: 'side worker' }, el('h4', {}, 'worker ', el('span', { class: 'who-name', text: d.worker }), ' said'),
        el('pre', { class: 'summary', text: d.worker_summary })),
      el('div', { class: 'side reviewer' }, el('h4', {}, 'reviewer ', el('span', { class: 'who-name', text: d.reviewer }), ' said'),
        el('pre', { class: 'reasons', text: d.reasons }))),
    diff,
    d.resolution ? el('p', { class: 'resolution', 'data-decision': d.resolution.decision },
      'judged ', el('strong', { text: d.resolution.decision.replace('_', ' ') }),
      ' by ' + d.resolution.by + ' at ' + when(d.resolution.at) + ': ', el('span', { text: d.resolution.note }))
      : null,
    isAdmin() ? judgeForm(d) : null);
}

// Resolve an open entry; for spec_unclear (open or already judged so), amend
// the task's description where it lives and requeue it.
function judgeForm(d) {
  const open = d.status === 'open';
  if (!open && !(d.resolution && d.resolution.decision === 'spec_unclear')) return null;
  const decision = el('select', { class: 'decision' },
    ['reviewer_right', 'worker_right', 'spec_unclear'].map((v) => el('option', { value: v, text: v.replace('_', ' ') })));
  const note = el('textarea', { class: 'note', rows: 2, placeholder: 'why (kept with the judgement)' });
  const amendText = el('textarea', { class: 'amend-body', rows: 6 });
  const requeue = el('input', { type: 'checkbox', class: 'amend-requeue', checked: true });
  const amendBox = el('div', { class: 'amend', hidden: open },
    el('label', {}, 'The task\'s description, amended (the old text stays in its history)', amendText),
    el('label', { class: 'inline' }, requeue, ' requeue the task for the workers'));
  let loaded = false;
  const loadBody = async () => {
    if (loaded) return;
    loaded = true;
    try { amendText.value = (await api('GET', '/v1/tasks/' + d.task_id)).task.body; } catch (e) { loaded = false; }
  };
  if (!open) loadBody();
  decision.addEventListener('change', () => {
    amendBox.hidden = decision.value !== 'spec_unclear';
    if (!amendBox.hidden) loadBody();
  });
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act(async () => {
      if (open) {
        await api('POST', '/v1/disagreements/' + d.id + '/resolve',
          { decision: decision.value, note: note.value });
      }
      if (!open || decision.value === 'spec_unclear') {
        await api('POST', '/v1/tasks/' + d.task_id + '/amend',
          { body: amendText.value, note: note.value || undefined, requeue: requeue.checked });
      }
    }, open ? 'Disagreement ' + d.id + ' resolved.' : 'Task ' + d.task_id + ' amended.');
    if (ok) refresh();
  };
  return el('form', { class: 'judge', onsubmit: submit },
    open ? el('label', {}, 'Who was right? ', decision) : null,
    open ? el('label', {}, 'Note ', note) : null,
    amendBox,
    el('button', { type: 'submit', class: open ? 'resolve' : 'amend-only',
      text: open ? 'Resolve' : 'Amend the description' }));
}

views.agreement = async function () {
  const stats = await api('GET', '/v1/agreement');
  const root = clear($('agreement-tables'));
  const columns = ['submissions', 'approved', 'approved_first_time', 'rejected', 'reviewer_right',
                   'worker_right', 'spec_unclear', 'open'];
  for (const [scope, heading] of [['workers', 'Workers'], ['reviewers', 'Reviewers'], ['repos', 'Repositories']]) {
    root.append(el('h3', { text: heading }));
    if (!stats[scope].length) { root.append(el('p', { class: 'muted', text: 'nothing yet' })); continue; }
    root.append(table(['name'].concat(columns.map((c) => c.replace(/_/g, ' '))),
      stats[scope].map((row) => el('tr', { 'data-scope': scope, 'data-name': row.name },
        el('td', { text: row.name }),
        columns.map((c) => el('td', { 'data-col': c, text: String(row[c]) })))),
      { class: 'agreement', 'data-scope': scope }));
  }
};

views.human = async function () {
  const tasks = await allTasks('&state=needs_human');
  const root = clear($('human-list'));
  if (!tasks.length) root.append(el('p', { class: 'muted', text: 'nothing needs a person now' }));
  for (const t of tasks) {
    const d = await api('GET', '/v1/tasks/' + t.id);
    const note = el('textarea', { class: 'note', rows: 2, placeholder: 'a note for the next worker (requeue) or the record' });
    const call = (verb, body, done) => async () => {
      if (await act(() => api('POST', '/v1/tasks/' + t.id + '/' + verb, body()), done)) refresh();
    };
    root.append(el('article', { class: 'human', 'data-task': t.id },
      el('h3', {}, el('a', { href: '#task/' + t.id }, el('span', { class: 'muted', text: '#' + t.id + ' ' }),
        el('span', { class: 'title', text: t.title }))),
      el('p', { class: 'meta', text: text(t.repo) + ' · review round ' + t.review_round + '/' + t.max_review_rounds }),
      el('h4', { text: 'Last reviews' }),
      d.reviews.slice(-2).map((r) => el('div', { class: 'review' },
        el('p', { class: 'meta', text: r.reviewer + ' · ' + r.verdict + ' · ' + when(r.created_at) }),
        el('pre', { text: r.reasons }))),
      isAdmin() ? el('div', { class: 'actions' }, note,
        el('button', { type: 'button', class: 'requeue', text: 'Requeue with the note',
          onclick: call('requeue', () => ({ note: note.value || undefined }), 'Task ' + t.id + ' requeued.') }),
        el('button', { type: 'button', class: 'approve', text: 'Approve the last submission',
          onclick: call('approve', () => ({ note: note.value || undefined }), 'Task ' + t.id + ' approved.') }),
        el('button', { type: 'button', class: 'cancel danger', text: 'Cancel the task',
          onclick: call('cancel', () => ({ reason: note.value || undefined }), 'Task ' + t.id + ' cancelled.') }))
        : el('p', { class: 'muted', text: 'an admin token can requeue, approve or cancel' })));
  }
};

views.add = async function () {
  try {
    const repos = await api('GET', '/v1/repos');
    $('add-repos').replaceChildren(...repos.repos.map((r) => el('option', { value: r.name })));
  } catch (e) { /* a non-admin token: the form will say 403 */ }
};

async function addTask(event) {
  event.preventDefault();
  const depends = $('add-depends').value.split(',').map((s) => s.trim()).filter((s) => s);
  const body = {
    title: $('add-title').value, body: $('add-body').value, repo: $('add-repo').value,
    queue: $('add-queue').value || 'default', priority: Number($('add-priority').value || 0),
  };
  if (depends.length) body.depends_on = depends.map(Number);
  await act(async () => {
    const answer = await api('POST', '/v1/tasks', body);
    const result = clear($('add-result'));
    result.append('Added ', el('a', { href: '#task/' + answer.task.id, text: 'task ' + answer.task.id }), '.');
    $('add-title').value = '';
    $('add-body').value = '';
  }, 'Task added.');
}

// ------------------------------------------------------------------ routing and following

function route() {
  const hash = location.hash.replace(/^#/, '') || 'board';
  const [name, arg] = hash.split('/');
  if (name.startsWith('board')) return { name: 'board', view: 'board' };
  if (name === 'task' && arg) return { name: 'task', view: 'task', arg };
  if (views[name]) return { name, view: name };
  return { name: 'board', view: 'board' };
}

// Draws the view the address names. A refresh asked for while one runs (a
// click during a redraw the event feed started) runs right after it.
async function refresh() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = true;
  try {
    do {
      state.refreshAgain = false;
      const r = route();
      for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-' + r.view;
      for (const link of document.querySelectorAll('#nav a'))
        link.classList.toggle('current', link.getAttribute('href') === '#' + r.name);
      await views[r.view](r.arg);
      document.body.setAttribute('data-ready', r.view);
    } while (state.refreshAgain);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signOut(e.message);
    else showMessage(e.message || String(e));
  } finally {
    state.refreshing = false;
  }
}

// Follows the event history with long-polls of GET /v1/events: the server
// answers as soon as anything happens to any task (or after FOLLOW_WAIT_S
// with nothing), and the page redraws its view (not while the person is
// typing in a form of it).
async function follow() {
  let wait = 0;
  try {
    if (state.cursor === null) {
      state.cursor = (await api('GET', '/v1/events?after=0&limit=1')).last_id;
    } else {
      const answer = await api('GET', '/v1/events?after=' + state.cursor + '&limit=1000&wait_s=' + FOLLOW_WAIT_S);
      if (answer === null) {
        wait = RETRY_MS;  // 204: the server is stopping
      } else if (answer.events.length) {
        state.cursor = answer.events[answer.events.length - 1].id;
        const typing = document.activeElement && ['TEXTAREA', 'INPUT', 'SELECT'].includes(document.activeElement.tagName);
        if (!typing) await refresh();
      }
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut(e.message);
    wait = RETRY_MS;
  }
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  state.following = setTimeout(follow, wait);
}

function showLogin() {
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-login';
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('connection').hidden = true;
  document.body.setAttribute('data-ready', 'login');
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(state.following);
  state.whoami = null;
  state.cursor = null;
  showLogin();
  if (message) showMessage(message);
}

async function signIn() {
  try {
    state.whoami = await api('GET', '/v1/whoami');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signOut(e.message);
    showMessage(e.message);
    setTimeout(signIn, RETRY_MS);
    return;
  }
  showMessage('');
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = state.whoami.name + ' (' + state.whoami.role + ')';
  setConnection(false);
  await refresh();
  clearTimeout(state.following);
  follow();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token-input').value.trim());
    $('token-input').value = '';
    signIn();
  });
  $('sign-out').addEventListener('click', () => signOut(''));
  $('add-form').addEventListener('submit', addTask);
  for (const id of ['filter-status', 'filter-repo', 'filter-worker', 'filter-reviewer'])
    $(id).addEventListener('change', renderDisagreements);
  window.addEventListener('hashchange', () => { showMessage(''); refresh(); });
  if (sessionStorage.getItem(TOKEN_KEY)) signIn(); else showLogin();
});
