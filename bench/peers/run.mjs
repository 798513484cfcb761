// One peer row of agentq-bench: a queue a user could pick instead of agentq,
// running no-op jobs against the same PostgreSQL in the same run. agentq-bench
// starts this with node and reads the one JSON line it prints on stdout.
//
//   node run.mjs --peer graphile|pgboss --mode MODE --url URL
//                --clients N --duration S --jobs N
//
// graphile-worker 0.17.3 modes:
//   defaults  run({concurrency: N}): the library's defaults (each worker
//             fetches one job per query and completes it with another)
//   tuned     what its performance page (worker.graphile.org/docs/performance)
//             configures: localQueue {size: 500}, completeJobBatchDelay 0,
//             failJobBatchDelay 0, maxPoolSize N + 1
// pg-boss 10.4.2 modes:
//   batchB    N work() calls (workers) with batchSize B and the smallest
//             polling interval pg-boss accepts (0.5 s): a worker that found
//             jobs still waits out the rest of its interval (pg-boss's loop)
//
// The queue is preloaded with --jobs jobs before the clock starts; the rate is
// jobs completed in the database during the window (counted by SQL at its
// start and end), so a library that completes asynchronously is not credited
// for work it has not written. Latency: per worker, the time between
// consecutive job completions (graphile) or batch starts (pg-boss), i.e. one
// fetch + run + complete cycle, as agentq's store row measures its cycle.
import { parseArgs } from "node:util";
import pg from "pg";

const { values: args } = parseArgs({
  options: {
    peer: { type: "string" },
    mode: { type: "string" },
    url: { type: "string" },
    clients: { type: "string", default: "1" },
    duration: { type: "string", default: "5" },
    jobs: { type: "string", default: "20000" },
  },
});
for (const name of ["peer", "mode", "url"])
  if (!args[name]) {
    console.error(`run.mjs: --${name} is required (see the comment at the top of run.mjs)`);
    process.exit(2);
  }
const clients = Number(args.clients);
const durationMs = Number(args.duration) * 1000;
const jobs = Number(args.jobs);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(samples, p) {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

// Per-worker cycle times from a stream of (worker, time) events.
function cycleRecorder() {
  const last = new Map();
  const samples = [];
  let open = false;
  return {
    samples,
    start() { open = true; },
    stop() { open = false; },
    mark(worker, count = 1) {
      const now = performance.now();
      const before = last.get(worker);
      last.set(worker, now);
      if (open && before !== undefined) for (let i = 0; i < count; i++) samples.push((now - before) / count);
    },
  };
}

// Waits out the window, or less if every preloaded job is done first (a
// drained queue would otherwise dilute the rate); answers the last count.
async function windowEnd(began, count, all) {
  for (;;) {
    const left = began + durationMs - performance.now();
    await sleep(Math.max(0, Math.min(100, left)));
    const done = await count();
    if (done >= all || performance.now() >= began + durationMs) return done;
  }
}

async function scalar(client, text) {
  const result = await client.query(text);
  return Number(result.rows[0].n);
}

async function runGraphile(counter) {
  const { run, runMigrations } = await import("graphile-worker");
  const logger = new (await import("graphile-worker")).Logger(() => () => {});
  const base = { connectionString: args.url, logger, noHandleSignals: true };
  await runMigrations(base);
  await counter.query(
    `select count(*) from graphile_worker.add_jobs(array(
       select json_populate_record(null::graphile_worker.job_spec,
                                   '{"identifier": "noop", "payload": {}}')
       from generate_series(1, ${jobs})))`);
  await counter.query("vacuum analyze graphile_worker._private_jobs");
  const remaining = () => scalar(counter, "select count(*) as n from graphile_worker._private_jobs");

  let options;
  if (args.mode === "defaults") options = { ...base, concurrency: clients };
  else if (args.mode === "tuned")
    options = {
      ...base,
      concurrency: clients,
      maxPoolSize: clients + 1,
      preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    };
  else throw new Error(`graphile: unknown --mode ${args.mode} (defaults | tuned)`);

  const cycles = cycleRecorder();
  const before = await remaining();
  const runner = await run({ ...options, taskList: { noop: async () => {} } });
  runner.events.on("job:complete", ({ worker }) => cycles.mark(worker.workerId));
  // The workers connect and start fetching at once; the window opens when the
  // runner is up, as pgbench's opens after its clients connect.
  const began = performance.now();
  cycles.start();
  const startCount = before - (await remaining());
  const endCount = await windowEnd(began, async () => before - (await remaining()), before);
  const seconds = (performance.now() - began) / 1000;
  cycles.stop();
  await runner.stop();
  return { done: endCount - startCount, seconds, samples: cycles.samples, left: before - endCount };
}

async function runPgBoss(counter) {
  const batch = Number(/^batch(\d+)$/.exec(args.mode)?.[1] ?? NaN);
  if (!(batch > 0)) throw new Error(`pgboss: unknown --mode ${args.mode} (batchB, e.g. batch1)`);
  const { default: PgBoss } = await import("pg-boss");
  // No maintenance or cron during the window: only the workers touch the table.
  const boss = new PgBoss({ connectionString: args.url, max: clients + 2, supervise: false,
                            schedule: false, migrate: true });
  boss.on("error", (e) => console.error("pg-boss:", e.message));
  await boss.start();
  await boss.createQueue("noop");
  for (let added = 0; added < jobs; added += 5000) {
    const chunk = Array.from({ length: Math.min(5000, jobs - added) }, () => ({ name: "noop", data: {} }));
    await boss.insert(chunk);
  }
  await counter.query("vacuum analyze pgboss.job");
  const completed = () => scalar(counter, "select count(*) as n from pgboss.job where state = 'completed'");

  const cycles = cycleRecorder();
  const began = performance.now();
  cycles.start();
  const startCount = await completed();
  // pg-boss 10 has no concurrency option: one work() call is one polling
  // worker, so N clients are N work() calls, each with its own handler.
  for (let i = 0; i < clients; i++)
    await boss.work("noop", { batchSize: batch, pollingIntervalSeconds: 0.5 },
                    async (batchJobs) => cycles.mark(i, batchJobs.length));
  const endCount = await windowEnd(began, completed, jobs);
  const seconds = (performance.now() - began) / 1000;
  cycles.stop();
  await boss.stop({ graceful: false, wait: false });
  const left = await scalar(counter, "select count(*) as n from pgboss.job where state = 'created'");
  return { done: endCount - startCount, seconds, samples: cycles.samples, left };
}

const counter = new pg.Client({ connectionString: args.url });
await counter.connect();
try {
  let result;
  if (args.peer === "graphile") result = await runGraphile(counter);
  else if (args.peer === "pgboss") result = await runPgBoss(counter);
  else throw new Error(`unknown --peer ${args.peer} (graphile | pgboss)`);
  console.log(JSON.stringify({
    tasks: result.done,
    seconds: result.seconds,
    tasks_per_s: result.done / result.seconds,
    p50_ms: percentile(result.samples, 50),
    p99_ms: percentile(result.samples, 99),
    drained: result.left <= 0,
  }));
} finally {
  await counter.end();
}
process.exit(0);
