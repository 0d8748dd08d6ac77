// BullMQ peer: N no-op jobs added one at a time (await each add) by one
// client, end to end, then with addBulk; then status look-ups by id.
// usage: node bench.js --port P --jobs N --mode MODE
// Prints: PEER system=bullmq mode=MODE figure=... value=... unit=...
const { Queue, Worker, QueueEvents, Job } = require("bullmq");

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const port = Number(arg("port", 6379));
const jobs = Number(arg("jobs", 20000));
const mode = arg("mode", "none");
const lookups = Number(arg("lookups", 5000));
const connection = { host: "127.0.0.1", port };
const out = (figure, value, unit) =>
  console.log(`PEER system=bullmq mode=${mode} figure=${figure} value=${value.toFixed(3)} unit=${unit} jobs=${jobs}`);
const pct = (s, p) => s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))];

async function run(name, bulk) {
  const queue = new Queue(name, { connection });
  let done = 0, failed = 0, resolve;
  const finished = new Promise((r) => (resolve = r));
  // Workers run in this process, as BullMQ recommends for cheap processors;
  // the one client below still adds one job at a time.
  const worker = new Worker(name, async () => ({}), { connection, concurrency: 50 });
  worker.on("completed", () => { if (++done + failed === jobs) resolve(); });
  worker.on("failed", () => { if (done + ++failed === jobs) resolve(); });
  await worker.waitUntilReady();
  const opts = { removeOnComplete: false, removeOnFail: false };
  const t0 = process.hrtime.bigint();
  const ids = [];
  if (bulk) {
    for (let i = 0; i < jobs; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(jobs, i + 1000); ++j) batch.push({ name: "noop", data: {}, opts });
      for (const job of await queue.addBulk(batch)) ids.push(job.id);
    }
  } else {
    for (let i = 0; i < jobs; ++i) ids.push((await queue.add("noop", {}, opts)).id);
  }
  const submitS = Number(process.hrtime.bigint() - t0) / 1e9;
  await finished;
  const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
  const suffix = bulk ? ".bulk" : "";
  out(`e2e${suffix}`, jobs / totalS, "jobs/s");
  out(`submit${suffix}`, jobs / submitS, "jobs/s");
  out(`completed${suffix}`, done, "count");
  if (!bulk) {
    const lat = [];
    for (let i = 0; i < lookups; ++i) {
      const t = process.hrtime.bigint();
      await queue.getJobState(ids[(i * 7919) % ids.length]);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    lat.sort((a, b) => a - b);
    out("lookup.p50", pct(lat, 50), "ms");
    out("lookup.p99", pct(lat, 99), "ms");
  }
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return done === jobs;
}

(async () => {
  const ok = (await run("bench-one", false)) & (await run("bench-bulk", true));
  process.exit(ok ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
