// The people's page (issue 11) end to end: a real PostgreSQL database, a real
// `agentq serve`, a real git repository, tasks in every state made through
// the API by real worker and reviewer tokens, and the page driven in headless
// Chromium (Debian's chromium, through playwright-core).
//
// node page_test.mjs AGENTQ_BINARY ARTIFACT_DIR
//   AGENTQ_TEST_DATABASE_URL: a PostgreSQL server where we may CREATE DATABASE
//   AGENTQ_CHROMIUM: the browser (default /usr/bin/chromium)
// Screenshots of every view land in ARTIFACT_DIR.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [agentq, artifacts] = process.argv.slice(2);
if (!agentq || !artifacts) throw new Error('usage: node page_test.mjs AGENTQ_BINARY ARTIFACT_DIR');
const serverUrl = process.env.AGENTQ_TEST_DATABASE_URL;
if (!serverUrl) throw new Error('AGENTQ_TEST_DATABASE_URL is not set (scripts/test sets it)');
const browserPath = process.env.AGENTQ_CHROMIUM || '/usr/bin/chromium';
mkdirSync(artifacts, { recursive: true });

const adminToken = 'web-test-bootstrap-token-0123456789';
const work = mkdtempSync(join(tmpdir(), 'agentq-web-'));
const dbName = 'agentq_web_' + process.pid;
const HOSTILE_TITLE = '<script>window.__pwned = "title"</script> hostile title';
const HOSTILE_BODY = '<img src=x onerror="window.__pwned = \'body\'"> hostile body';
const HOSTILE_REASONS = '<img src=x onerror="window.__pwned = \'reasons\'">\nno tests';
const HOSTILE_SUMMARY = '<b onmouseover="window.__pwned = 1">bold?</b> <script>window.__pwned = 2</script>';

function step(what) { console.log('--- ' + what); }

// ------------------------------------------------------------------ the database and the server

function databaseUrl(name) {
  if (/^postgres(ql)?:\/\//.test(serverUrl)) {
    const url = new URL(serverUrl);
    url.pathname = '/' + name;
    return url.toString();
  }
  return serverUrl.replace(/(^|\s)dbname=\S+/g, '') + ' dbname=' + name;
}

function psql(sql) {
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl('postgres'), '-c', sql],
    { stdio: ['ignore', 'ignore', 'inherit'] });
}

function git(cwd, ...args) {
  return execFileSync('git', args, { cwd, encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't',
           GIT_COMMITTER_EMAIL: 't@x' } }).trim();
}

let server = null;
let serverLog = '';

function startServer(dbUrl) {
  return new Promise((resolve, reject) => {
    server = spawn(agentq, ['serve', '--listen', '127.0.0.1:0', '--git-cache', join(work, 'cache'),
                            '--db-pool', '4'],
      { env: { ...process.env, AGENTQ_DATABASE_URL: dbUrl, AGENTQ_ADMIN_TOKEN: adminToken,
               AGENTQ_REPO_ROOTS: work },
        stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error('agentq serve did not start: ' + serverLog)), 30000);
    server.stderr.on('data', (d) => { serverLog += d; });
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on ([\d.]+):(\d+)/);
      if (m) { clearTimeout(timer); resolve('http://127.0.0.1:' + m[2]); }
    });
    server.on('exit', (code) => reject(new Error('agentq serve exited ' + code + ': ' + serverLog)));
  });
}

// ------------------------------------------------------------------ the API, as the agents use it

let base = '';

async function call(token, method, path, body) {
  const response = await fetch(base + path, {
    method, headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30000),
  });
  const raw = await response.text();
  return { status: response.status, body: raw ? JSON.parse(raw) : null };
}

async function ok(token, method, path, body) {
  const answer = await call(token, method, path, body);
  assert.ok(answer.status >= 200 && answer.status < 300,
    method + ' ' + path + ' answered ' + answer.status + ' ' + JSON.stringify(answer.body));
  return answer.body;
}

async function allTasks(query = '') {
  return (await ok(adminToken, 'GET', '/v1/tasks?limit=1000' + query)).tasks;
}

// ------------------------------------------------------------------ the fixture: every state

async function buildQueue(repoDir, clone) {
  const agent = async (name, role) => (await ok(adminToken, 'POST', '/v1/agents', { name, role })).token;
  const tokens = {
    person: await agent('person', 'admin'),
    w1: await agent('w1', 'worker'), w2: await agent('w2', 'worker'),
    r1: await agent('r1', 'reviewer'), r2: await agent('r2', 'reviewer'),
  };
  await ok(adminToken, 'POST', '/v1/repos', { name: 'demo', url: repoDir, base_branch: 'main' });
  await ok(adminToken, 'POST', '/v1/repos', { name: 'other', url: repoDir + '-other', base_branch: 'main' });

  // Each task in a queue of its own, so each claim takes the task we mean.
  let n = 0;
  const add = async (title, fields = {}) => {
    n += 1;
    const queue = 'q' + n;
    const task = (await ok(adminToken, 'POST', '/v1/tasks',
      { title, body: 'do ' + title, repo: 'demo', queue, ...fields })).task;
    return { id: task.id, queue };
  };
  const claim = async (who, task) => {
    const answer = await call(tokens[who], 'POST', '/v1/claims', { queues: [task.queue] });
    assert.equal(answer.status, 200, who + ' claims task ' + task.id + ': ' + JSON.stringify(answer.body));
    assert.equal(answer.body.task.id, task.id);
    return answer.body.claim.token;
  };
  const submit = async (who, task, summary) => {
    const token = await claim(who, task);
    const branch = 'agentq/' + task.id + '/' + token;
    git(clone, 'checkout', '-q', '-B', branch, 'origin/main');
    writeFileSync(join(clone, 'task-' + task.id + '-' + token + '.txt'), 'work of ' + who + '\n');
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'task ' + task.id);
    git(clone, 'push', '-q', 'origin', branch);
    const commit = git(clone, 'rev-parse', 'HEAD');
    await ok(tokens[who], 'POST', '/v1/tasks/' + task.id + '/submit',
      { token, branch, commit, summary: summary || who + ' did ' + task.id });
  };
  const review = async (who, task, verdict, reasons) => {
    const token = await claim(who, task);
    return ok(tokens[who], 'POST', '/v1/tasks/' + task.id + '/review',
      { token, verdict, reasons: reasons || (verdict === 'approve' ? 'fine' : 'not fine') });
  };

  const tasks = {};
  tasks.queued = await add('a queued task');
  tasks.hostile = await add(HOSTILE_TITLE, { body: HOSTILE_BODY });
  tasks.working = await add('a task in the works');
  await claim('w1', tasks.working);
  tasks.awaiting = await add('a task awaiting review');
  await submit('w1', tasks.awaiting);
  tasks.reviewing = await add('a task in review');
  await submit('w2', tasks.reviewing);
  await claim('r1', tasks.reviewing);
  tasks.done = await add('a task done first time');
  await submit('w1', tasks.done);
  const approved = await review('r2', tasks.done, 'approve');
  assert.equal(approved.state, 'done', 'the approval merged: ' + JSON.stringify(approved));
  tasks.failed = await add('a task that failed');
  const failToken = await claim('w2', tasks.failed);
  await ok(tokens.w2, 'POST', '/v1/tasks/' + tasks.failed.id + '/release',
    { token: failToken, reason: 'cannot', retry: false });
  tasks.cancelled = await add('a cancelled task');
  await ok(adminToken, 'POST', '/v1/tasks/' + tasks.cancelled.id + '/cancel', { reason: 'not needed' });

  // Disagreements: two rounds of one task (the first judged), a rejection
  // then approval, and the needs_human task whose spec was unclear.
  tasks.argued = await add('a task argued over');
  const first = await review_after_submit('w1', 'r1', tasks.argued, 'the tests do not run');
  await ok(adminToken, 'POST', '/v1/disagreements/' + first.disagreement_id + '/resolve',
    { decision: 'reviewer_right', note: 'they did not' });
  await review_after_submit('w2', 'r2', tasks.argued, 'still no tests');
  tasks.second = await add('a task approved the second time');
  const rejected = await review_after_submit('w2', 'r1', tasks.second, 'wrong file');
  await ok(adminToken, 'POST', '/v1/disagreements/' + rejected.disagreement_id + '/resolve',
    { decision: 'worker_right', note: 'the file was right' });
  await submit('w1', tasks.second);
  assert.equal((await review('r2', tasks.second, 'approve')).state, 'done');
  tasks.human = await add('make it faster', { max_review_rounds: 1 });
  const escalated = await review_after_submit('w1', 'r2', tasks.human, HOSTILE_REASONS, HOSTILE_SUMMARY);
  assert.equal(escalated.state, 'needs_human');
  tasks.human.disagreement = escalated.disagreement_id;
  return { tokens, tasks };

  async function review_after_submit(worker, reviewer, task, reasons, summary) {
    await submit(worker, task, summary);
    return review(reviewer, task, 'reject', reasons);
  }
}

// ------------------------------------------------------------------ what the API says

async function expectedAgreement() {
  // Rejections and their judgements from the disagreement log; submissions
  // and approvals from each task's own record.
  const rows = { workers: {}, reviewers: {}, repos: {} };
  const row = (scope, name) => (rows[scope][name] ||= { submissions: 0, approved: 0,
    approved_first_time: 0, rejected: 0, reviewer_right: 0, worker_right: 0, spec_unclear: 0, open: 0 });
  const tasks = await allTasks();
  const repoOf = Object.fromEntries(tasks.map((t) => [t.id, t.repo]));
  for (const t of tasks) {
    const d = await ok(adminToken, 'GET', '/v1/tasks/' + t.id);
    d.submissions.forEach((s, i) => {
      row('workers', s.worker).submissions += 1;
      row('repos', t.repo).submissions += 1;
      // the review of a submission is the one its reviewer made after it, before the next
      const next = d.submissions[i + 1];
      const judged = d.reviews.filter((r) => r.created_at >= s.created_at &&
                                             (!next || r.created_at < next.created_at));
      for (const r of judged) {
        row('reviewers', r.reviewer).submissions += 1;
        if (r.verdict !== 'approve') continue;
        for (const [scope, name] of [['workers', s.worker], ['reviewers', r.reviewer], ['repos', t.repo]]) {
          row(scope, name).approved += 1;
          if (i === 0) row(scope, name).approved_first_time += 1;
        }
      }
    });
  }
  const log = (await ok(adminToken, 'GET', '/v1/disagreements?status=all&limit=100')).disagreements;
  for (const e of log.filter((x) => x.kind === 'rejection')) {
    const judged = e.resolution ? e.resolution.decision : 'open';
    for (const [scope, name] of [['workers', e.worker], ['reviewers', e.reviewer], ['repos', repoOf[e.task_id]]]) {
      row(scope, name).rejected += 1;
      row(scope, name)[judged] += 1;
    }
  }
  return rows;
}

// ------------------------------------------------------------------ the page

async function main() {
  step('a fresh database, a repository and agentq serve');
  psql('drop database if exists ' + dbName + ' with (force)');
  psql('create database ' + dbName);
  const dbUrl = databaseUrl(dbName);
  execFileSync(agentq, ['migrate'], { env: { ...process.env, AGENTQ_DATABASE_URL: dbUrl }, stdio: 'inherit' });
  const repoDir = join(work, 'demo.git');
  git(work, 'init', '-q', '--bare', '-b', 'main', repoDir);
  const clone = join(work, 'clone');
  git(work, 'clone', '-q', repoDir, clone);
  writeFileSync(join(clone, 'README'), 'demo\n');
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', 'start');
  git(clone, 'push', '-q', 'origin', 'HEAD:main');
  base = await startServer(dbUrl);
  const { tokens, tasks } = await buildQueue(repoDir, clone);

  const browser = await chromium.launch({ executablePath: browserPath, headless: true,
                                          args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const failures = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60000);  // CI runs the suite in parallel: be patient, assert no timings
    page.on('dialog', (d) => { failures.push('a dialog opened: ' + d.message()); d.dismiss(); });
    page.on('pageerror', (e) => failures.push('page error: ' + e.message));
    // The page itself must live within its policy (no inline script or style).
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) failures.push('CSP violation: ' + m.text());
    });
    const shot = (name) => page.screenshot({ path: join(artifacts, name + '.png'), fullPage: true });
    const waitReady = (view) => page.waitForSelector('body[data-ready="' + view + '"]');
    const go = async (hash, view) => {
      await page.evaluate(() => document.body.removeAttribute('data-ready'));
      await page.evaluate((h) => { location.hash = h; }, hash);
      await waitReady(view);
    };
    const signIn = async (token) => {
      await page.fill('#token-input', token);
      await page.click('#login-form button');
    };

    step('the page and its Content-Security-Policy');
    const response = await page.goto(base + '/');
    assert.equal(response.status(), 200);
    const policy = response.headers()['content-security-policy'];
    assert.match(policy, /default-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.equal(response.headers()['x-content-type-options'], 'nosniff');
    await waitReady('login');
    await shot('login');

    step('a bad token is refused with a message that says so');
    await signIn('not-a-token');
    await page.waitForSelector('#message:not([hidden])');
    assert.match(await page.textContent('#message'), /token was refused \(401/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('agentq_token')), null);
    await page.waitForSelector('#view-login:not([hidden])');

    step('a worker token reads, but adding a task is forbidden (403)');
    await signIn(tokens.w1);
    await waitReady('board');
    await go('#add', 'add');
    await page.fill('#add-title', 'not allowed');
    await page.fill('#add-repo', 'demo');
    await page.click('#add-form button');
    await page.waitForSelector('#message.error:not([hidden])');
    assert.match(await page.textContent('#message'), /Forbidden \(403\): the worker role/);
    await page.click('#sign-out');
    await page.evaluate(() => { location.hash = '#board'; });

    step('the board: counts by state match the API');
    await signIn(tokens.person);
    await waitReady('board');
    const states = ['queued', 'working', 'awaiting_review', 'reviewing', 'needs_human', 'done', 'failed', 'cancelled'];
    for (const s of states) {
      const fromApi = (await allTasks('&state=' + s)).length;
      assert.ok(fromApi > 0, 'the fixture has a ' + s + ' task');
      assert.equal(await page.textContent('[data-count="' + s + '"]'), String(fromApi), 'count of ' + s);
      assert.equal(await page.locator('[data-column="' + s + '"] .card').count(), fromApi, 'cards of ' + s);
    }
    const holder = await page.textContent('[data-task="' + tasks.working.id + '"] .card-holder');
    assert.match(holder, /w1 \(worker\) · \d+ (s|min) left/);
    assert.match(await page.textContent('[data-task="' + tasks.reviewing.id + '"] .card-holder'), /r1 \(reviewer\)/);
    assert.equal(await page.textContent('#connection'), 'live');
    await shot('board');

    step('hostile text is shown as text and never runs');
    const hostileCard = page.locator('[data-task="' + tasks.hostile.id + '"] .title');
    assert.equal(await hostileCard.textContent(), HOSTILE_TITLE);
    await go('#task/' + tasks.hostile.id, 'task');
    assert.equal(await page.textContent('#task-body'), HOSTILE_BODY);

    step('a task: claims, submissions with diff stats, reviews, merge, history');
    await go('#task/' + tasks.second.id, 'task');
    await page.waitForSelector('#task-detail .diffstats');
    const detail = await page.textContent('#task-detail');
    for (const expected of ['wrong file', 'fine', 'merged', 'rejected',
                            'approved', 'claimed', 'submitted', '1 file(s)']) {
      assert.ok(detail.includes(expected), 'the task view shows "' + expected + '"');
    }
    const apiTask = await ok(adminToken, 'GET', '/v1/tasks/' + tasks.second.id);
    assert.equal(await page.locator('.timeline li').count(), apiTask.events.length);
    await shot('task');

    step('the disagreement log: rows match the API, open first, filters');
    await go('#disagreements', 'disagreements');
    const log = (await ok(adminToken, 'GET', '/v1/disagreements?status=all&limit=100')).disagreements;
    assert.ok(log.length >= 4 && log.some((d) => d.status === 'resolved') && log.some((d) => d.status === 'open'));
    const rows = await page.$$eval('article.disagreement', (nodes) => nodes.map((n) => ({
      id: Number(n.dataset.id), status: n.dataset.status,
      worker: n.querySelector('.worker .who-name').textContent,
      reviewer: n.querySelector('.reviewer .who-name').textContent,
      summary: n.querySelector('.summary').textContent,
      reasons: n.querySelector('.reasons').textContent,
    })));
    assert.deepEqual(rows.map((r) => r.id).sort(), log.map((d) => d.id).sort());
    const firstResolved = rows.findIndex((r) => r.status === 'resolved');
    assert.ok(rows.slice(firstResolved).every((r) => r.status === 'resolved'), 'open entries first');
    for (const r of rows) {
      const d = log.find((x) => x.id === r.id);
      assert.deepEqual([r.status, r.worker, r.reviewer, r.summary, r.reasons],
                       [d.status, d.worker, d.reviewer, d.worker_summary, d.reasons]);
    }
    await page.waitForSelector('article.disagreement .diffstats');
    await page.selectOption('#filter-worker', 'w2');
    await page.selectOption('#filter-status', 'open');
    const filtered = await page.$$eval('article.disagreement', (n) => n.map((x) => Number(x.dataset.id)));
    assert.deepEqual(filtered.sort(), log.filter((d) => d.worker === 'w2' && d.status === 'open').map((d) => d.id).sort());
    await page.selectOption('#filter-worker', '');
    await page.selectOption('#filter-status', 'all');
    await shot('disagreements');

    step('the agreement table matches numbers computed from the API');
    await go('#agreement', 'agreement');
    const expected = await expectedAgreement();
    for (const scope of ['workers', 'reviewers', 'repos']) {
      const shown = await page.$$eval('tr[data-scope="' + scope + '"]', (trs) => trs.map((tr) => {
        const cells = {};
        for (const td of tr.querySelectorAll('td[data-col]')) cells[td.dataset.col] = Number(td.textContent);
        return [tr.dataset.name, cells];
      }));
      assert.deepEqual(Object.fromEntries(shown), expected[scope], 'agreement of ' + scope);
    }
    await shot('agreement');

    step('needs a person: the needs_human task with its last review');
    await go('#human', 'human');
    const human = page.locator('article.human[data-task="' + tasks.human.id + '"]');
    assert.equal(await human.count(), 1);
    assert.ok((await human.textContent()).includes(HOSTILE_REASONS.split('\n')[0]));
    await shot('needs-human');

    step('spec unclear: resolve, amend the description and requeue through the page');
    await go('#disagreements', 'disagreements');
    const entry = page.locator('article.disagreement[data-id="' + tasks.human.disagreement + '"]');
    await entry.locator('select.decision').selectOption('spec_unclear');
    await entry.locator('textarea.amend-body').waitFor();
    await page.waitForFunction((id) => document.querySelector(
      'article.disagreement[data-id="' + id + '"] textarea.amend-body').value === 'do make it faster', tasks.human.disagreement);
    const newBody = 'make GET /v1/tasks answer within 50 ms at 10k tasks';
    await entry.locator('textarea.note').fill('faster than what?');
    await entry.locator('textarea.amend-body').fill(newBody);
    await entry.locator('button.resolve').click();
    await page.waitForSelector('#message.ok:not([hidden])');
    const judged = (await ok(adminToken, 'GET', '/v1/disagreements/' + tasks.human.disagreement)).disagreement;
    assert.equal(judged.resolution.decision, 'spec_unclear');
    assert.equal(judged.resolution.note, 'faster than what?');
    assert.equal(judged.resolution.by, 'person');
    const amended = await ok(adminToken, 'GET', '/v1/tasks/' + tasks.human.id);
    assert.equal(amended.task.body, newBody);
    assert.equal(amended.task.state, 'queued');
    const kinds = amended.events.map((e) => e.kind);
    assert.deepEqual(kinds.slice(-2), ['amended', 'requeued']);
    assert.equal(amended.events.at(-2).detail.old_body, 'do make it faster');
    assert.equal(amended.events.at(-2).actor, 'person');

    step('the board follows a task added through the API without a reload');
    await go('#board', 'board');
    await page.evaluate(() => { window.__sameDocument = true; });
    const queuedBefore = Number(await page.textContent('[data-count="queued"]'));
    const added = (await ok(adminToken, 'POST', '/v1/tasks',
      { title: 'added while the board was open', body: 'b', repo: 'other' })).task;
    await page.waitForSelector('[data-task="' + added.id + '"]', { timeout: 60000 });
    assert.equal(await page.textContent('[data-count="queued"]'), String(queuedBefore + 1));
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');

    step('add a task with the form');
    await go('#add', 'add');
    await page.fill('#add-title', 'added through the form');
    await page.fill('#add-body', 'with a body');
    await page.fill('#add-repo', 'demo');
    await page.fill('#add-priority', '7');
    await page.fill('#add-depends', String(tasks.done.id));
    await page.click('#add-form button');
    await page.waitForSelector('#add-result a');
    const formTask = (await allTasks()).find((t) => t.title === 'added through the form');
    assert.ok(formTask, 'the form added the task');
    assert.deepEqual([formTask.priority, formTask.depends_on, formTask.repo], [7, [tasks.done.id], 'demo']);
    await shot('add-task');

    step('a phone-sized screen');
    await page.setViewportSize({ width: 390, height: 844 });
    await go('#disagreements', 'disagreements');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, 'no sideways scrolling on a phone (' + overflow + ' px)');
    await shot('disagreements-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    step('nothing hostile ran');
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.evaluate(() => document.querySelectorAll('img, b').length), 0);

    step('the page says when it lost the server');
    await go('#board', 'board');
    server.removeAllListeners('exit');
    server.kill('SIGTERM');
    await page.waitForSelector('#connection.lost', { timeout: 60000 });
    assert.match(await page.textContent('#connection'), /server lost/);
    await shot('server-lost');
  } finally {
    await browser.close();
  }
  assert.deepEqual(failures, []);
}

try {
  await main();
  console.log('PASS: the people\'s page');
} catch (e) {
  console.error(e);
  if (serverLog) console.error('--- server log (tail)\n' + serverLog.slice(-4000));
  process.exitCode = 1;
} finally {
  if (server && server.exitCode === null) server.kill('SIGTERM');
  try { psql('drop database if exists ' + dbName + ' with (force)'); } catch (e) { /* reported above */ }
  rmSync(work, { recursive: true, force: true });
}
