#!/usr/bin/env python3
"""The chaos run (issue 14): faults at random moments, every invariant checked.

Started by scripts/chaos, which builds agentq and starts a private PostgreSQL
(AGENTQ_CHAOS_PG_URL, and AGENTQ_CHAOS_PG_CTL to stop and start it). This
driver starts everything else as real processes:

  - two `agentq serve` on one database (servers A and B), each behind a TCP
    proxy of this driver so client connections can be dropped;
  - a bare repository served by `git daemon` behind another proxy, which can
    stall (hold every byte) for a while;
  - agentq-worker and agentq-reviewer runners split between the servers, with
    tests/chaos/agents/ as their agents (random duration, sometimes failing);

adds the tasks (some rejected once or twice, some with dependencies, some
cancelled on the way) and, while they run, injects faults at random moments:

  kill_worker, kill_reviewer   SIGKILL a runner (restarted)
  kill_server                  SIGKILL server A or B (restarted on its port)
  stop_runner                  SIGSTOP a runner past its lease, then SIGCONT:
                               it must notice (its own lease clock) and push
                               nothing; any late call it makes must be refused
  pg_restart                   PostgreSQL fast restart
  pg_terminate                 pg_terminate_backend of the servers' connections
  drop_connections             every runner-server connection cut mid-flight
  git_stall                    the git remote holds every byte for a while
  late_call                    a holder call with the token of a claim that
                               has ended, as its agent (a heartbeat; for an
                               expired claim also the release or the review
                               it would have sent): it must get 409

When the time is up it waits for every task to end, stops everything and
checks the invariants over the whole history and the repository (see
check()). It prints a table and one last line:

  chaos: D/N done (C cancelled), F faults (kinds...), R stale calls refused, invariants hold

or what broke, and exits 1 then. Timings are reported, never asserted.
"""

import argparse
import http.client
import json
import os
import random
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

# Single-fault scenarios for the recovery table: (fault kind, repeat every
# N seconds through the middle third, or None for once).
SCENARIOS = {"kill_worker": ("kill_worker", None), "repeated_kills": ("kill_worker", 3.0),
             "pg_restart": ("pg_restart", None), "pg_terminate": ("pg_terminate", 0.5),
             "kill_server": ("kill_server", None)}
FAULT_KINDS = ["kill_worker", "kill_reviewer", "kill_server", "stop_runner", "pg_restart",
               "pg_terminate", "drop_connections", "git_stall", "late_call"]
ADMIN_TOKEN = "chaos-admin-token-0123456789abcdef"


def log(message):
    print(f"chaos [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ proxies

class Proxy:
    """A TCP proxy 127.0.0.1:front -> 127.0.0.1:back that can cut every
    connection it carries (drop_all) or hold every byte for a while (stall)."""

    def __init__(self, name, back_port):
        self.name = name
        self.back_port = back_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = set()
        self.stalled_until = 0.0
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.back_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()  # the server is down: the caller sees a refused connection
                continue
            with self.lock:
                self.open.add(client)
                self.open.add(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 0.5)
                for s in readable:
                    while time.monotonic() < self.stalled_until and not self.stopping:
                        time.sleep(0.05)
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self.lock:
                self.open.discard(a)
                self.open.discard(b)
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def drop_all(self):
        with self.lock:
            victims = list(self.open)
        for s in victims:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(victims) // 2

    def stall(self, seconds):
        self.stalled_until = time.monotonic() + seconds

    def stop(self):
        self.stopping = True
        self.listener.close()
        self.drop_all()


# ------------------------------------------------------------------ processes

class Proc:
    def __init__(self, name, argv, env, log_path, cwd=None):
        self.name, self.argv, self.env, self.log_path, self.cwd = name, argv, env, log_path, cwd
        self.p = None
        self.starts = 0
        self.stopped = False  # SIGSTOPped now

    def start(self):
        out = open(self.log_path, "ab")
        self.p = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=self.cwd, start_new_session=True)
        out.close()
        self.starts += 1

    def signal(self, sig):
        if self.p and self.p.poll() is None:
            try:
                os.kill(self.p.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        if self.p:
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def terminate(self, grace=10):
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        if self.p:
            try:
                self.p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self):
        return self.p is not None and self.p.poll() is None


# ------------------------------------------------------------------ HTTP

def api(port, method, path, token, body=None, timeout=10):
    """(status, json or None); status None when the server could not be reached."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def api_retry(port, method, path, token, body=None, give_up_s=120):
    """Retries unreachable and 503 answers (faults are running) until give_up_s."""
    deadline = time.monotonic() + give_up_s
    while True:
        status, answer = api(port, method, path, token, body)
        if status not in (None, 503) or time.monotonic() > deadline:
            return status, answer
        time.sleep(0.3)


# ------------------------------------------------------------------ the run

class Chaos:
    def __init__(self, opts):
        self.o = opts
        self.rng = random.Random(opts.seed)
        self.work = opts.work
        os.makedirs(self.work, exist_ok=True)
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.pg_url = os.environ["AGENTQ_CHAOS_PG_URL"]
        self.pg_ctl = os.environ["AGENTQ_CHAOS_PG_CTL"]
        self.db_url = re.sub(r"dbname=\S+", "dbname=chaos", self.pg_url)
        self.bin = {name: self.find_binary(name)
                    for name in ("agentq", "agentq-worker", "agentq-reviewer", "chaos_invariants")}
        self.faults = {kind: 0 for kind in FAULT_KINDS}
        self.fault_log = []  # (seconds since start, kind, detail)
        self.stale_seen = {}  # server incarnation -> late holder calls it refused
        self.agent_tokens = {}  # runner name -> its bearer token (for late_call)
        self.late_calls = {"refused": 0, "accepted": []}  # the late_call fault's answers
        self.lock = threading.Lock()
        self.pg_down = threading.Event()
        self.stopping = False
        self.cancel_answers = {}  # key -> status of our cancel call

    def find_binary(self, name):
        for dirpath, _, files in os.walk(self.o.build_dir):
            if name in files and os.access(os.path.join(dirpath, name), os.X_OK):
                if "CMakeFiles" not in dirpath:
                    return os.path.join(dirpath, name)
        sys.exit(f"chaos: {name} not found under {self.o.build_dir}: build it first "
                 f"(scripts/chaos builds unless --no-build)")

    def sh(self, command, check=True, **kw):
        return subprocess.run(command, shell=True, check=check, capture_output=True, text=True,
                              **kw)

    def psql(self, sql, url=None):
        out = subprocess.run(["psql", url or self.db_url, "-XAtq", "-v", "ON_ERROR_STOP=1",
                              "-c", sql], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()}")
        return [line for line in out.stdout.splitlines() if line]

    # -------------------------------------------------------------- setup

    def setup(self):
        self.psql("create database chaos", url=self.pg_url)
        subprocess.run([self.bin["agentq"], "migrate", "--database-url", self.db_url],
                       check=True, capture_output=True)
        self.setup_repo()
        self.servers = {}
        for name in ("A", "B"):
            port = free_port()
            env = dict(os.environ, AGENTQ_ADMIN_TOKEN=ADMIN_TOKEN)
            argv = [self.bin["agentq"], "serve", "--database-url", self.db_url,
                    "--listen", f"127.0.0.1:{port}", "--lease-s", str(self.o.lease_s),
                    "--first-lease-s", str(self.o.first_lease_s), "--retry-backoff-s", "1",
                    "--git-timeout-s", "5", "--db-pool", "4",
                    # The repository is served by git daemon on 127.0.0.1.
                    "--allow-private-repo-hosts",
                    "--git-cache", os.path.join(self.work, f"server-{name}-git")]
            proc = Proc(f"server-{name}", argv, env, os.path.join(self.logs, f"server-{name}.log"))
            proc.start()
            self.servers[name] = {"proc": proc, "port": port, "proxy": Proxy(f"server-{name}", port)}
        for name in self.servers:
            self.wait_ready(name)
        a = self.servers["A"]["port"]
        status, answer = api_retry(a, "POST", "/v1/repos", ADMIN_TOKEN,
                                   {"name": "chaos", "url": self.repo_url, "base_branch": "main"})
        assert status == 201, f"repo add: {status} {answer}"
        self.runners = []
        for i in range(self.o.workers):
            self.add_runner("worker", f"worker-{i + 1}", "A" if i % 2 == 0 else "B")
        for i in range(self.o.reviewers):
            self.add_runner("reviewer", f"reviewer-{i + 1}", "B" if i % 2 == 0 else "A")

    def setup_repo(self):
        git_root = os.path.join(self.work, "git")
        origin = os.path.join(git_root, "origin.git")
        self.origin = origin
        os.makedirs(git_root)
        self.sh(f"git init -q --bare -b main {shlex.quote(origin)}")
        seed = os.path.join(self.work, "seed")
        self.sh(f"git init -q -b main {shlex.quote(seed)} && cd {shlex.quote(seed)} && "
                "echo chaos > README && git add README && "
                "git -c user.name=chaos -c user.email=chaos@example.invalid commit -qm seed && "
                f"git push -q {shlex.quote(origin)} main")
        # Every ref any push writes is logged, to check that nothing but the
        # base branch and agentq/<id>/<token> branches was ever written.
        self.ref_log = os.path.join(self.work, "refs-written.log")
        hook = os.path.join(origin, "hooks", "post-receive")
        with open(hook, "w") as f:
            f.write(f"#!/bin/sh\ncat >> {shlex.quote(self.ref_log)}\n")
        os.chmod(hook, 0o755)
        # Pushes over git:// run receive-pack as this user: allow them.
        self.sh(f"git --git-dir={shlex.quote(origin)} config daemon.receivepack true")
        daemon_port = free_port()
        self.git_daemon = Proc("git-daemon", [
            "git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
            f"--base-path={git_root}", "--listen=127.0.0.1", f"--port={daemon_port}", git_root],
            dict(os.environ), os.path.join(self.logs, "git-daemon.log"))
        self.git_daemon.start()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", daemon_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        self.git_proxy = Proxy("git", daemon_port)
        self.repo_url = f"git://127.0.0.1:{self.git_proxy.port}/origin.git"

    def wait_ready(self, name, limit=60):
        port = self.servers[name]["port"]
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            status, _ = api(port, "GET", "/readyz", ADMIN_TOKEN, timeout=2)
            if status == 200:
                return True
            time.sleep(0.2)
        return False

    def add_runner(self, role, name, server):
        status, answer = api_retry(self.servers["A"]["port"], "POST", "/v1/agents", ADMIN_TOKEN,
                                   {"name": name, "role": role})
        assert status == 201, f"agent add {name}: {status} {answer}"
        self.agent_tokens[name] = answer["token"]
        here = os.path.dirname(os.path.abspath(__file__))
        agent = os.path.join(here, "agents", f"chaos-{role}.sh")
        env = dict(os.environ, AGENTQ_CHAOS_EXAMPLES=os.path.join(self.o.source, "scripts", "agents"),
                   AGENTQ_CHAOS_MAX_S=str(self.o.agent_max_s),
                   GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=f"{name}@example.invalid",
                   GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=f"{name}@example.invalid")
        argv = [self.bin[f"agentq-{role}"], "--server",
                f"http://127.0.0.1:{self.servers[server]['proxy'].port}", "--token", answer["token"],
                "--cmd", f"sh {shlex.quote(agent)}", "--workdir", os.path.join(self.work, name),
                "--lease-s", str(self.o.lease_s), "--wait-s", "2", "--idle-exit", "100000"]
        proc = Proc(name, argv, env, os.path.join(self.logs, f"{name}.log"))
        proc.role = role
        proc.server = server
        proc.start()
        self.runners.append(proc)

    # -------------------------------------------------------------- tasks

    def add_tasks(self):
        n = self.o.tasks
        self.tasks = {}  # key -> {id, kind, deps, cancel}
        keys = [f"k{i + 1}" for i in range(n)]
        no_cancel = set()  # tasks others depend on are never cancelled
        for i, key in enumerate(keys):
            roll = 1.0 if self.o.scenario else self.rng.random()
            kind = "plain"
            if roll < 0.15:
                kind = "reject-once"
            elif roll < 0.25:
                kind = "reject-twice"
            deps = []
            if i >= 3 and not self.o.scenario and self.rng.random() < 0.2:
                candidates = [k for k in keys[:i] if not self.tasks[k]["cancel"]]
                deps = self.rng.sample(candidates, min(len(candidates), self.rng.choice([1, 2])))
                no_cancel.update(deps)
            self.tasks[key] = {"kind": kind, "deps": deps, "cancel": False}
        # About a tenth is cancelled on the way, from the later half (most
        # likely still queued or in work when the cancel comes).
        if not self.o.scenario:
            later = [k for k in keys[n // 2:] if k not in no_cancel]
            for key in self.rng.sample(later, min(len(later), max(1, n // 10))):
                self.tasks[key]["cancel"] = True
        # Later tasks may depend on a task planned for cancel only if chosen
        # before the plan: drop those edges instead.
        for key in keys:
            self.tasks[key]["deps"] = [d for d in self.tasks[key]["deps"]
                                       if not self.tasks[d]["cancel"]]
        a = self.servers["A"]["port"]
        for key in keys:
            t = self.tasks[key]
            body = {"repo": "chaos", "title": f"chaos {key}",
                    "body": f"create chaos/{key}.txt change {key}",
                    "labels": [t["kind"]] if t["kind"] != "plain" else [],
                    "depends_on": [self.tasks[d]["id"] for d in t["deps"]],
                    "max_attempts": 50, "max_review_rounds": 5,
                    "idempotency_key": f"chaos-{key}"}
            status, answer = api_retry(a, "POST", "/v1/tasks", ADMIN_TOKEN, body)
            assert status in (200, 201), f"add {key}: {status} {answer}"
            t["id"] = answer["task"]["id"]
        self.by_id = {t["id"]: key for key, t in self.tasks.items()}

    def states(self):
        """task id -> state, from whichever server answers; None when neither does."""
        for name in ("A", "B"):
            out, after = {}, None
            while True:
                path = "/v1/tasks?limit=200" + (f"&after={after}" if after else "")
                status, answer = api(self.servers[name]["port"], "GET", path, ADMIN_TOKEN)
                if status != 200:
                    out = None
                    break
                for task in answer["tasks"]:
                    out[task["id"]] = task["state"]
                after = answer.get("next")
                if not after:
                    break
            if out is not None:
                return out
        return None

    # -------------------------------------------------------------- faults

    def record(self, kind, detail):
        with self.lock:
            self.faults[kind] += 1
            self.fault_log.append((time.monotonic() - self.started, kind, detail))
        log(f"fault {kind}: {detail}")

    def later(self, seconds, action):
        def run():
            time.sleep(seconds)
            action()
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.pending.append(t)

    def restart_server(self, name):
        s = self.servers[name]
        self.scrape(name)
        s["proc"].kill()
        self.later(self.rng.uniform(0.5, 2.0), lambda: s["proc"].start())

    def inject(self, kind):
        rng = self.rng
        if kind in ("kill_worker", "kill_reviewer"):
            role = kind.split("_")[1]
            victims = [r for r in self.runners if r.role == role and r.alive() and not r.stopped]
            if not victims:
                return False
            r = rng.choice(victims)
            r.kill()
            self.later(rng.uniform(0.3, 1.5), r.start)
            self.record(kind, r.name)
        elif kind == "kill_server":
            name = rng.choice(["A", "B"])
            if not self.servers[name]["proc"].alive():
                return False
            self.restart_server(name)
            self.record(kind, f"server {name}")
        elif kind == "stop_runner":
            victims = [r for r in self.runners if r.alive() and not r.stopped]
            if not victims:
                return False
            # A runner that holds a claim now, when there is one: its late
            # calls after SIGCONT are what must be refused.
            try:
                holders = set(self.psql("select a.name from claims c join agents a "
                                        "on a.id = c.agent_id where c.ended_at is null"))
            except RuntimeError:
                holders = set()
            busy = [r for r in victims if r.name in holders]
            r = rng.choice(busy or victims)
            pause = self.o.lease_s + rng.uniform(1.5, 4.0)
            r.stopped = True
            r.signal(signal.SIGSTOP)

            def resume(r=r):
                r.signal(signal.SIGCONT)
                r.stopped = False
            self.later(pause, resume)
            self.record(kind, f"{r.name} for {pause:.1f} s")
        elif kind == "pg_restart":
            if self.pg_down.is_set():
                return False
            self.pg_down.set()
            try:
                self.sh(f"{self.pg_ctl} stop -m fast")
                time.sleep(rng.uniform(0.2, 1.0))
                self.sh(f"{self.pg_ctl} start")
            finally:
                self.pg_down.clear()
            self.record(kind, "fast restart")
        elif kind == "pg_terminate":
            if self.pg_down.is_set():
                return False
            try:
                killed = self.psql("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                   "where datname = 'chaos' and pid <> pg_backend_pid() "
                                   "and backend_type = 'client backend'")
            except RuntimeError:
                return False
            self.record(kind, f"{killed[0] if killed else 0} backends")
        elif kind == "drop_connections":
            dropped = sum(s["proxy"].drop_all() for s in self.servers.values())
            self.record(kind, f"{dropped} client connections")
        elif kind == "late_call":
            return self.late_call()
        elif kind == "git_stall":
            seconds = rng.uniform(2.0, 7.0)
            self.git_proxy.stall(seconds)
            self.record(kind, f"{seconds:.1f} s")
        return True

    def late_call(self):
        """What a runner that stalled past its lease does when it wakes without
        noticing: a holder call with the token of a claim that has ended.
        (The runners notice by themselves, from their own lease clock, so
        stop_runner alone rarely makes the server see such a call.) A
        heartbeat of any ended claim, and for a claim that expired the call
        that would have changed the task, must be refused with 409 and
        change nothing (the invariants check the history afterwards)."""
        try:
            rows = self.psql("select c.task_id || ' ' || c.token || ' ' || a.name || ' ' || "
                             "c.role || ' ' || c.outcome from claims c join agents a "
                             "on a.id = c.agent_id where c.ended_at is not null "
                             "order by random() limit 1")
        except RuntimeError:
            return False
        if not rows:
            return False
        task, token, agent, role, outcome = rows[0].split()
        if agent not in self.agent_tokens:
            return False
        calls = [("heartbeat", {"token": int(token), "progress": "chaos: late"})]
        if outcome == "expired":
            calls.append(("release", {"token": int(token), "reason": "chaos: late release",
                                      "retry": True}) if role == "worker" else
                         ("review", {"token": int(token), "verdict": "reject",
                                     "reasons": "chaos: late rejection"}))
        port = self.servers[self.rng.choice("AB")]["port"]
        answers = []
        for verb, body in calls:
            status, answer = api(port, "POST", f"/v1/tasks/{task}/{verb}",
                                 self.agent_tokens[agent], body)
            code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
            answers.append(f"{verb} {status} {code or ''}".strip())
            with self.lock:
                if status == 409 and code in ("stale_token", "lease_expired"):
                    self.late_calls["refused"] += 1
                elif status is not None and 200 <= status < 300:
                    self.late_calls["accepted"].append(
                        f"task {task} token {token} ({outcome}): {verb} answered {status}")
        self.record("late_call", f"{agent} token {token} ({outcome}): " + ", ".join(answers))
        return True

    def scrape(self, name):
        s = self.servers[name]
        status, answer = api(s["port"], "GET", "/metrics", ADMIN_TOKEN, timeout=2)
        if status != 200 or not isinstance(answer, str):
            return
        # A late holder call is refused with stale_token (someone else holds
        # the task now) or lease_expired (nobody has taken it yet): both count.
        refused = [re.search(rf"^agentq_{code}_refusals_total (\d+)", answer, re.M)
                   for code in ("stale_token", "lease_expired")]
        if all(refused):
            with self.lock:
                incarnation = (name, s["proc"].starts)
                self.stale_seen[incarnation] = max(self.stale_seen.get(incarnation, 0),
                                                   sum(int(m.group(1)) for m in refused))

    def cancel_some(self, elapsed_share):
        for key, t in self.tasks.items():
            if t["cancel"] and key not in self.cancel_answers and \
                    self.rng.random() < 0.1 + elapsed_share * 0.5:
                status, answer = api(self.servers[self.rng.choice("AB")]["port"], "POST",
                                     f"/v1/tasks/{t['id']}/cancel", ADMIN_TOKEN,
                                     {"reason": "chaos: cancelled on the way"})
                if status is None or status == 503:
                    continue  # try again later
                self.cancel_answers[key] = status
                log(f"cancel {key} (task {t['id']}): {status}")

    # -------------------------------------------------------------- main loop

    def run_scenario(self):
        """Recovery, measured: completions per second before, during and after
        one kind of fault. Reports; asserts nothing about timings."""
        kind, every = SCENARIOS[self.o.scenario]
        duration = self.o.minutes * 60
        start = time.time()
        fault_at = start + duration / 3
        fault_end = start + 2 * duration / 3 if every else fault_at
        self.started = time.monotonic()
        self.pending = []
        while time.time() < fault_at:
            time.sleep(0.1)
        self.inject(kind)
        while every and time.time() < fault_end:
            time.sleep(every)
            self.inject(kind)
        for t in self.pending:
            t.join()
        if not every:
            fault_end = time.time()  # the fault is over when its process is back
        end = start + duration
        while time.time() < end:
            time.sleep(0.2)
        done_at = [float(x) for x in self.psql(
            "select extract(epoch from at) from events where kind = 'merged'")]
        self.stop_all()

        def rate(a, b):
            return sum(1 for t in done_at if a <= t < b) / max(b - a, 1e-9)
        warmup = min(10.0, duration / 9)
        baseline = rate(start + warmup, fault_at)
        during = rate(fault_at, max(fault_end, fault_at + 5))
        after = rate(max(fault_end, fault_at + 5), end)
        back = None
        t = fault_at
        while t + 5 <= end:
            if baseline > 0 and rate(t, t + 5) >= 0.9 * baseline:
                back = t - fault_at
                break
            t += 0.5
        share = f"{100 * after / baseline:.0f} %" if baseline else "n/a"
        back_text = f"{back:.1f} s" if back is not None else "not within the run"
        print("| scenario | baseline /s | fault phase /s | recovery /s | recovery share | "
              "back to 90 % after |")
        print("|---|---|---|---|---|---|")
        print(f"| {self.o.scenario} | {baseline:.2f} | {during:.2f} | {after:.2f} | {share} | "
              f"{back_text} |")
        return 0

    def run(self):
        self.setup()
        self.add_tasks()
        if self.o.scenario:
            return self.run_scenario()
        self.pending = []
        self.started = time.monotonic()
        duration = self.o.minutes * 60
        gap = duration / max(1, self.o.min_faults * 1.4)
        next_fault = self.started + self.rng.uniform(0.3, 1.0) * gap
        kinds = list(FAULT_KINDS)
        self.done_times = []  # completions over time, for the table
        last_scrape = 0
        while time.monotonic() - self.started < duration:
            now = time.monotonic()
            if now >= next_fault:
                # Every kind comes round: the least injected first, ties at random.
                self.rng.shuffle(kinds)
                kind = min(kinds, key=lambda k: self.faults[k])
                if self.rng.random() < 0.3:
                    kind = self.rng.choice(kinds)
                try:
                    self.inject(kind)
                except Exception as e:  # a fault that could not be made is no result
                    log(f"fault {kind} could not be injected: {e}")
                next_fault = now + self.rng.uniform(0.5, 1.5) * gap
            if now - last_scrape > 1:
                for name in self.servers:
                    self.scrape(name)
                self.cancel_some((now - self.started) / duration)
                last_scrape = now
            time.sleep(0.1)
        log("faults over; waiting for every task to end")
        for t in self.pending:
            t.join()
        for r in self.runners:  # a runner killed at the very end comes back
            if not r.alive():
                r.start()
        for name, s in self.servers.items():
            if not s["proc"].alive():
                s["proc"].start()
            self.wait_ready(name)
        # Cancels that never got an answer are sent now.
        for key, t in self.tasks.items():
            if t["cancel"] and key not in self.cancel_answers:
                status, _ = api_retry(self.servers["A"]["port"], "POST",
                                      f"/v1/tasks/{t['id']}/cancel", ADMIN_TOKEN, {})
                self.cancel_answers[key] = status
        self.fault_end = time.monotonic()
        deadline = time.monotonic() + self.o.settle_s
        states = None
        while time.monotonic() < deadline:
            states = self.states()
            if states and all(states.get(t["id"]) in ("done", "cancelled", "failed", "needs_human")
                              for t in self.tasks.values()):
                break
            for name in self.servers:
                self.scrape(name)
            time.sleep(1)
        self.settled_s = time.monotonic() - self.fault_end
        for name in self.servers:
            self.scrape(name)
        self.final_states = self.states() or {}
        self.stop_all()
        return self.check()

    def stop_all(self):
        for r in self.runners:
            r.terminate(grace=5)
        for s in self.servers.values():
            s["proc"].terminate()
            s["proxy"].stop()
        self.git_proxy.stop()
        self.git_daemon.terminate()

    # -------------------------------------------------------------- checks

    def check(self):
        problems = []
        states = self.final_states
        counts = {}
        for key, t in self.tasks.items():
            state = states.get(t["id"], "unknown")
            counts[state] = counts.get(state, 0) + 1
            cancelled_ok = t["cancel"] and self.cancel_answers.get(key) == 200
            want = "cancelled" if cancelled_ok else "done"
            if state != want:
                problems.append(f"task {t['id']} ({key}, {t['kind']}) ended {state}, "
                                f"expected {want}")

        out = subprocess.run([self.bin["chaos_invariants"], self.db_url], capture_output=True,
                             text=True)
        if out.returncode != 0:
            problems += [f"store invariant: {line}" for line in
                         (out.stdout + out.stderr).splitlines() if line]

        # No holder call with a stale token was accepted: every holder event
        # names the token of the task's latest claim before it.
        for row in self.psql("""
            select e.task_id || ' ' || e.kind || ' token ' || e.token || ' but claim ' ||
                   coalesce(c.token::text, 'none')
            from events e
            left join lateral (select x.token from events x
                               where x.task_id = e.task_id and x.kind = 'claimed' and x.id < e.id
                               order by x.id desc limit 1) c on true
            where e.kind in ('submitted', 'released', 'rejected', 'approved')
              and e.token is distinct from c.token"""):
            problems.append(f"stale call accepted: task {row}")
        # At most one live claim per task at every point: each claim ended
        # before (or as) the next one of its task began.
        for row in self.psql("""
            select task_id || ': claim ' || token || ' still live when ' || next_token || ' began'
            from (select task_id, token, ended_at, lease_expires_at,
                         lead(token) over w as next_token, lead(claimed_at) over w as next_at
                  from claims window w as (partition by task_id order by token)) c
            where next_token is not null
              and (ended_at is null or ended_at > next_at)"""):
            problems.append(f"two live claims: task {row}")
        # Every rejection has its disagreement with both sides' words.
        for row in self.psql("""
            select e.task_id || ' rejection ' || e.id
            from events e
            left join disagreements d on d.id = (e.detail->>'disagreement_id')::bigint
            where e.kind = 'rejected'
              and (d.id is null or coalesce(d.reasons, '') = ''
                   or coalesce(d.worker_summary, '') = '' or coalesce(d.worker, '') = ''
                   or coalesce(d.reviewer, '') = '')"""):
            problems.append(f"rejection without both sides' words: task {row}")
        rejections = int(self.psql("select count(*) from events where kind = 'rejected'")[0])
        takeovers = int(self.psql("select count(*) from events where kind = 'lease_expired'")[0])
        events = int(self.psql("select count(*) from events")[0])

        # The repository: the base branch holds each done task's change
        # exactly once and no cancelled task's; only main and the claims'
        # agentq/<id>/<token> branches were ever written.
        for key, t in self.tasks.items():
            commits = self.sh(f"git --git-dir={shlex.quote(self.origin)} log --no-merges "
                              f"--format=%H main -- chaos/{key}.txt").stdout.split()
            want = 1 if states.get(t["id"]) == "done" else 0
            if len(commits) != want:
                problems.append(f"task {t['id']} ({key}): {len(commits)} commits of its change "
                                f"on main, expected {want}")
        worker_claims = {(int(a), int(b)) for a, b in (
            line.split("|") for line in
            self.psql("select task_id, token from claims where role = 'worker'"))}
        refs_written = 0
        if os.path.exists(self.ref_log):
            with open(self.ref_log) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) != 3:
                        continue
                    refs_written += 1
                    ref = parts[2]
                    m = re.fullmatch(r"refs/heads/agentq/(\d+)/(\d+)", ref)
                    if ref == "refs/heads/main":
                        continue
                    if not m or (int(m.group(1)), int(m.group(2))) not in worker_claims:
                        problems.append(f"a ref no claim may write was written: {ref}")

        for accepted in self.late_calls["accepted"]:
            problems.append(f"late call accepted: {accepted}")
        stale = sum(self.stale_seen.values())
        total_faults = sum(self.faults.values())
        if total_faults < self.o.min_faults:
            problems.append(f"only {total_faults} faults were injected, wanted {self.o.min_faults}")

        n = len(self.tasks)
        done = counts.get("done", 0)
        cancelled = counts.get("cancelled", 0)
        rows = [
            ("tasks", n), ("done", done), ("cancelled", cancelled),
            ("other end states", n - done - cancelled),
            ("rejections (each with its disagreement)", rejections),
            ("leases taken over after expiry", takeovers),
            ("events in the history", events),
            ("refs written to the repository", refs_written),
            ("late holder calls refused (stale_token + lease_expired)", stale),
            ("  of them the late_call fault's, refused with 409", self.late_calls["refused"]),
            ("faults injected", total_faults),
        ] + [(f"  {kind}", self.faults[kind]) for kind in FAULT_KINDS] + [
            ("fault phase (s)", f"{self.o.minutes * 60:.0f}"),
            ("settling after the faults (s)", f"{self.settled_s:.1f}"),
            ("seed", self.o.seed),
        ]
        width = max(len(r[0]) for r in rows)
        print(f"| {'what'.ljust(width)} | value |")
        print(f"|{'-' * (width + 2)}|-------|")
        for name, value in rows:
            print(f"| {name.ljust(width)} | {value} |")
        kinds = ", ".join(f"{k} {v}" for k, v in self.faults.items() if v)
        head = f"chaos: {done}/{n} done ({cancelled} cancelled), {total_faults} faults ({kinds}), " \
               f"{stale} stale calls refused"
        if problems:
            for p in problems[:50]:
                print(f"  BROKEN: {p}")
            print(f"{head}, {len(problems)} invariant violation(s): {problems[0]}")
            return 1
        print(f"{head}, invariants hold")
        return 0


def main():
    parser = argparse.ArgumentParser(
        prog="scripts/chaos", description="The chaos run: random faults, every invariant checked.")
    parser.add_argument("--tasks", type=int, default=30, help="tasks to add [30]")
    parser.add_argument("--minutes", type=float, default=1.0,
                        help="how long faults are injected [1]")
    parser.add_argument("--seed", type=int, default=None,
                        help="random seed (the same seed makes the same plan) [random]")
    parser.add_argument("--min-faults", type=int, default=None,
                        help="faults to inject at least; fewer fails the run "
                             "[12 a minute of faults, at least 15]")
    parser.add_argument("--workers", type=int, default=3, help="worker runners [3]")
    parser.add_argument("--reviewers", type=int, default=2, help="reviewer runners [2]")
    parser.add_argument("--lease-s", type=int, default=5, help="claims' lease [5]")
    parser.add_argument("--first-lease-s", type=int, default=3,
                        help="claims' first lease, until the first heartbeat [3]")
    parser.add_argument("--agent-max-s", type=int, default=2,
                        help="longest an agent takes, seconds [2]")
    parser.add_argument("--settle-s", type=int, default=None,
                        help="how long to wait for every task to end after the faults "
                             "[2 s a task, at least 240]")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS),
                        help="measure recovery instead: plain tasks, a baseline third, then one "
                             "kind of fault (once, or repeated through the middle third), and "
                             "completions per second in each phase (docs/recovery.md)")
    parser.add_argument("--build-dir", required=True, help=argparse.SUPPRESS)
    parser.add_argument("--work", required=True, help=argparse.SUPPRESS)
    parser.add_argument("--source", required=True, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.seed is None:
        opts.seed = random.SystemRandom().randrange(1, 10**6)
    # The soak (--tasks 500 --minutes 10) gets its 100+ faults and the time
    # its queue needs to drain without extra flags.
    if opts.min_faults is None:
        opts.min_faults = max(15, round(12 * opts.minutes))
    if opts.settle_s is None:
        opts.settle_s = max(240, 2 * opts.tasks)
    log(f"seed {opts.seed}: {opts.tasks} tasks, {opts.minutes} min of faults "
        f"(at least {opts.min_faults}), work in {opts.work}")
    chaos = Chaos(opts)
    try:
        code = chaos.run()
    except BaseException:
        try:
            chaos.stop_all()
        except Exception:
            pass
        raise
    sys.exit(code)


if __name__ == "__main__":
    main()
