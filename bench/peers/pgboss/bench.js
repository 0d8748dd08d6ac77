// pg-boss peer: N no-op jobs sent one at a time (await each boss.send) by one
// client, end to end, then the same N with boss.insert in batches of 1,000;
// then status look-ups by id (boss.getJobById). PostgreSQL is started by
// run_peers.sh (a cluster of its own in a temp dir).
// usage: node bench.js --port P [--host H] [--user U] [--database D] --jobs N --mode MODE
//                      [--workers W] [--batch-size B] [--lookups L]
// Prints: PEER system=pgboss mode=MODE figure=... value=... unit=... jobs=N
const PgBoss = require("pg-boss");

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const jobs = Number(arg("jobs", 20000));
const mode = arg("mode", "none");
const lookups = Number(arg("lookups", 5000));
// Ten polling workers, like Sidekiq's concurrency 10. pg-boss workers poll
// (500 ms is the least interval it accepts) and each poll fetches up to
// batchSize jobs, so throughput is at most workers * batchSize / 0.5 s.
const workers = Number(arg("workers", 10));
const batchSize = Number(arg("batch-size", 1000)); // as large as the insert() batches: polling caps no figure below 20,000 jobs/s
const pollingIntervalSeconds = 0.5;
const out = (figure, value, unit) =>
  console.log(`PEER system=pgboss mode=${mode} figure=${figure} value=${value.toFixed(3)} unit=${unit} jobs=${jobs}`);
const pct = (s, p) => s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const boss = new PgBoss({
  host: arg("host", "127.0.0.1"),
  port: Number(arg("port", 5432)),
  user: arg("user", "bench"),
  database: arg("database", "bench"),
  max: workers + 4, // a connection for each worker's fetch, and some for the client and completions
  schedule: false, // no cron timekeeper: nothing here is scheduled
  pollingIntervalSeconds,
});
boss.on("error", (e) => console.error("# pg-boss error:", e.message));

async function run(name, bulk) {
  await boss.createQueue(name);
  let handled = 0, resolve;
  const allHandled = new Promise((r) => (resolve = r));
  const ids = [];
  for (let w = 0; w < workers; ++w) {
    await boss.work(name, { batchSize, pollingIntervalSeconds }, async (batch) => {
      handled += batch.length;
      if (handled >= jobs) resolve();
    });
  }
  const t0 = process.hrtime.bigint();
  if (bulk) {
    for (let i = 0; i < jobs; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(jobs, i + 1000); ++j) batch.push({ name, data: {} });
      for (const id of (await boss.insert(batch)) || []) ids.push(id);
    }
  } else {
    for (let i = 0; i < jobs; ++i) ids.push(await boss.send(name, {}));
  }
  const submitS = Number(process.hrtime.bigint() - t0) / 1e9;
  await allHandled;
  // End to end: every job's completion is stored, not just its handler run
  // (pg-boss completes a fetched batch after its handler returns).
  while ((await boss.getQueueSize(name, { before: "completed" })) > 0) await sleep(10);
  const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
  await boss.offWork(name);
  const { rows } = await boss.getDb().executeSql(
    "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'", [name]);
  const done = rows[0].n;
  const suffix = bulk ? ".bulk" : "";
  out(`e2e${suffix}`, jobs / totalS, "jobs/s");
  out(`submit${suffix}`, jobs / submitS, "jobs/s");
  out(`completed${suffix}`, done, "count");
  if (!bulk) {
    const lat = [];
    for (let i = 0; i < lookups; ++i) {
      const t = process.hrtime.bigint();
      const job = await boss.getJobById(name, ids[(i * 7919) % ids.length]);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!job) throw new Error("getJobById found nothing");
    }
    lat.sort((a, b) => a - b);
    out("lookup.p50", pct(lat, 50), "ms");
    out("lookup.p99", pct(lat, 99), "ms");
  }
  return done === jobs;
}

(async () => {
  await boss.start();
  const ok = (await run("bench-one", false)) & (await run("bench-bulk", true));
  await boss.stop({ graceful: false, wait: true });
  process.exit(ok ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
