// The Client against a real overseerd: every endpoint, problem documents and the bearer token.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  ProblemError,
  UnauthorizedError,
  WaitTimeout,
  type Client,
} from "../src/index.js";
import { Daemon, eventually } from "./daemon.js";

const NEVER_ISSUED = "job_01M880PHE1F1GN54T6TES72772";

async function rejection<E extends Error>(promise: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${cls.name}, but it resolved`);
}

describe("Client", () => {
  const daemon = new Daemon();
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(() => daemon.remove());

  it("follows a sleep job to completion with its result, logs and history", async () => {
    const sub = await c.submit({ tool: "sleep", params: { seconds: 0.4, steps: 2 }, name: "demo", priority: 7, labels: { case: "lifecycle" } });
    assert.match(sub.job_id, /^job_[0-9A-Z]{26}$/);
    assert.equal(sub.status, "pending");
    const job = await c.wait(sub.job_id, { timeoutMs: 30_000 });
    assert.equal(job.status, "completed");
    assert.deepEqual(job.result, { slept_seconds: 0.4, steps: 2 });
    assert.deepEqual(await c.result(sub.job_id), { slept_seconds: 0.4, steps: 2 });
    const view = await c.get(sub.job_id);
    assert.deepEqual([view.name, view.priority, view.labels], ["demo", 7, { case: "lifecycle" }]);
    assert.equal(view.progress.percent, 100);
    assert.equal(view.retry.max_attempts, 1);
    const history = await c.history(sub.job_id);
    assert.deepEqual(history.map((h) => [h.from, h.to]), [[null, "pending"], ["pending", "running"], ["running", "completed"]]);
    const logs = await c.logs(sub.job_id);
    assert.ok(logs.logs.some((l) => l.component === "engine" && l.message.includes("started")));
    assert.equal((await c.logs(sub.job_id, { level: "critical" })).total, 0);
    const page = await c.logs(sub.job_id, { limit: 1 });
    assert.deepEqual([page.logs.length, page.limit], [1, 1]);
  });

  it("wait returns a finished job at once and times out on a long one", async () => {
    const done = await c.submit({ tool: "noop" });
    await eventually(async () => (await c.get(done.job_id)).status === "completed");
    assert.equal((await c.wait(done.job_id, { timeoutMs: 5000 })).status, "completed");
    const slow = await c.submit({ tool: "sleep", params: { seconds: 30, steps: 30 } });
    await rejection(c.wait(slow.job_id, { timeoutMs: 300 }), WaitTimeout);
    await c.cancel(slow.job_id);
  });

  it("wait and long polls take timeouts past 2^31-1 ms and Infinity without firing early", async () => {
    const job = await c.submit({ tool: "sleep", params: { seconds: 0.3, steps: 1 } });
    assert.equal((await c.wait(job.job_id, { timeoutMs: Infinity })).status, "completed");
    const other = await c.submit({ tool: "sleep", params: { seconds: 0.3, steps: 1 } });
    assert.equal((await c.wait(other.job_id, { timeoutMs: 2 ** 31 })).status, "completed");
    const long = daemon.client({ timeoutMs: 3e9 });
    assert.equal((await long.run({ tool: "sleep", params: { seconds: 0.2, steps: 1 } }, { waitMs: Infinity })).finished, true);
    const polled = await long.submit({ tool: "sleep", params: { seconds: 0.2, steps: 1 } });
    assert.equal((await long.get(polled.job_id, { waitMs: 2 ** 32 })).status, "completed");
  });

  it("lists with status, tool, label and batch filters and pages both ways", async () => {
    const tag = randomUUID().slice(0, 8);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.submit({ tool: "noop", labels: { run: tag, n: String(i) } })).job_id);
    const failing = (await c.submit({ tool: "fail", params: { failures: 5 }, labels: { run: tag } })).job_id;
    for (const j of [...ids, failing]) await c.wait(j, { timeoutMs: 20_000 });
    const all = await c.listJobs({ labels: { run: tag } });
    assert.equal(all.total_count, 4);
    assert.deepEqual(all.jobs.map((j) => j.job_id), [failing, ...ids.slice().reverse()]);
    assert.deepEqual((await c.listJobs({ labels: { run: tag }, status: "failed" })).jobs.map((j) => j.job_id), [failing]);
    assert.equal((await c.listJobs({ labels: { run: tag }, tool: "noop" })).total_count, 3);
    assert.deepEqual((await c.listJobs({ labels: { run: tag, n: "1" } })).jobs.map((j) => j.job_id), [ids[1]]);
    const page = await c.listJobs({ labels: { run: tag }, page: 2, page_size: 1 });
    assert.deepEqual([page.jobs.map((j) => j.job_id), page.page, page.has_next], [[ids[2]], 2, true]);
    const last = await c.listJobs({ labels: { run: tag }, limit: 2, offset: 2 });
    assert.deepEqual([last.jobs.map((j) => j.job_id), last.has_next], [[ids[1], ids[0]], false]);
    const future = new Date(Date.now() + 3_600_000);
    assert.equal((await c.listJobs({ labels: { run: tag }, created_after: future })).total_count, 0);
    assert.equal((await c.listJobs({ labels: { run: tag }, created_before: future })).total_count, 4);
    const named = (await c.submit({ tool: "noop", name: `Annotate SAMPLE-${tag}` })).job_id;
    assert.deepEqual((await c.listJobs({ name_contains: `sample-${tag}` })).jobs.map((j) => j.job_id), [named]);
    const bad = await rejection(c.listJobs({ name_contains: "x".repeat(257) }), BadRequestError);
    assert.deepEqual(bad.errors.map((e) => e.field), ["name_contains"]);
  });

  it("cancels and retries, and answers conflicts with problem documents", async () => {
    const job = await c.submit({ tool: "sleep", params: { seconds: 30, steps: 30 } });
    await eventually(async () => (await c.get(job.job_id)).status === "running");
    assert.equal((await c.cancel(job.job_id)).status, "cancelled");
    const again = await rejection(c.cancel(job.job_id), ConflictError);
    assert.equal(again.status, 409);
    assert.match(again.detail, /cancelled/);
    assert.equal((await rejection(c.result(job.job_id), ConflictError)).jobStatus, "cancelled");
    assert.equal((await c.retry(job.job_id)).status, "pending");
    const reasons = (await c.history(job.job_id)).map((h) => [h.from, h.to, h.reason]);
    assert.deepEqual(reasons.filter((r) => r[2] === "retried by client 127.0.0.1"), [["cancelled", "pending", "retried by client 127.0.0.1"]]);
    await c.cancel(job.job_id);
    const done = await c.submit({ tool: "noop" });
    await c.wait(done.job_id, { timeoutMs: 10_000 });
    await rejection(c.retry(done.job_id), ConflictError);
  });

  it("keeps the operator's reason of a cancel, a retry and a batch's cancel", async () => {
    const job = await c.submit({ tool: "sleep", params: { seconds: 30, steps: 30 } });
    const bad = await rejection(c.cancel(job.job_id, { reason: "" }), BadRequestError);
    assert.deepEqual(bad.errors.map((e) => e.field), ["reason"]);
    assert.notEqual((await c.get(job.job_id)).status, "cancelled"); // the refusal changed nothing
    await c.cancel(job.job_id, { reason: "wrong reference genome" });
    await c.retry(job.job_id, { reason: "genome fixed" });
    await c.cancel(job.job_id);
    const reasons = (await c.history(job.job_id)).map((h) => h.reason);
    assert.ok(reasons.includes("cancelled by client 127.0.0.1: wrong reference genome"));
    assert.ok(reasons.includes("retried by client 127.0.0.1: genome fixed"));
    assert.equal(reasons.at(-1), "cancelled by client 127.0.0.1");
    const batch = await c.submitBatch({ jobs: [{ tool: "sleep", params: { seconds: 30 } }] });
    await c.cancelBatch(batch.batch_id, { reason: "wrong samples" });
    assert.equal((await c.history(batch.job_ids[0]!)).at(-1)!.reason, "batch cancelled by client 127.0.0.1: wrong samples");
  });

  it("runs, views and cancels batches, and names the bad job of a refused one", async () => {
    const batch = await c.submitBatch({ name: "pair", parallel_limit: 1, jobs: [{ tool: "noop" }, { tool: "sleep", params: { seconds: 0.1 } }] });
    assert.equal(batch.job_ids.length, 2);
    for (const j of batch.job_ids) assert.equal((await c.wait(j, { timeoutMs: 20_000 })).batch_id, batch.batch_id);
    const view = await c.getBatch(batch.batch_id);
    assert.deepEqual([view.name, view.batch_status, view.total_jobs, view.parallel_limit], ["pair", "completed", 2, 1]);
    assert.deepEqual(view.jobs.map((j) => j.job_id), batch.job_ids);
    assert.equal(view.counts.completed, 2);
    assert.equal((await c.listJobs({ batch_id: batch.batch_id })).total_count, 2);
    await rejection(c.cancelBatch(batch.batch_id), ConflictError);
    const long = await c.submitBatch({ jobs: [{ tool: "sleep", params: { seconds: 30 } }, { tool: "sleep", params: { seconds: 30 } }], parallel_limit: 1 });
    const cancelled = await c.cancelBatch(long.batch_id);
    assert.deepEqual([cancelled.batch_status, cancelled.counts.cancelled], ["cancelled", 2]);
    const bad = await rejection(c.submitBatch({ jobs: [{ tool: "slep" }, { tool: "noop", idempotency_key: "k" }] }), BadRequestError);
    assert.deepEqual(Object.keys(bad.fieldMessages()).sort(), ["jobs[0].tool", "jobs[1].idempotency_key"]);
    await rejection(c.getBatch("batch_01M8832WF3AQTGGB5DVGN2756T"), NotFoundError);
  });

  it("answers equal params from the result cache and clears it by tool and label", async () => {
    const tag = randomUUID().slice(0, 8);
    const first = await c.submit({ tool: "sleep", params: { seconds: 0.052, steps: 1 }, use_cache: true, labels: { cache: tag } });
    await c.wait(first.job_id, { timeoutMs: 20_000 });
    const before = await c.cacheStats();
    const hit = await c.submit({ tool: "sleep", params: { steps: 1, seconds: 0.052 }, use_cache: true });
    assert.equal(hit.status, "completed");
    assert.equal((await c.get(hit.job_id)).cache_info?.source_job_id, first.job_id);
    const stats = await c.cacheStats();
    assert.equal(stats.cache_hits, before.cache_hits + 1);
    assert.ok(stats.total_cached_results >= 1);
    assert.equal(typeof stats.newest_cached_result, "string");
    assert.equal(await c.clearCache({ tool: "sleep", labels: { cache: `no-such-${tag}` } }), 0);
    assert.equal(await c.clearCache({ tool: "sleep", labels: { cache: tag } }), 1);
    assert.equal((await c.submit({ tool: "sleep", params: { seconds: 0.052, steps: 1 }, use_cache: true })).status, "pending");
  });

  it("returns the same job for a repeated idempotency key and conflicts on another spec", async () => {
    const key = `key-${randomUUID()}`;
    const first = await c.submit({ tool: "sleep", params: { seconds: 0.1 }, idempotency_key: key });
    const repeat = await c.submit({ tool: "sleep", params: { seconds: 0.1 }, idempotency_key: key });
    assert.equal(repeat.job_id, first.job_id);
    assert.equal(repeat.existing, true);
    assert.equal(first.existing, undefined);
    const other = await rejection(c.submit({ tool: "sleep", params: { seconds: 0.2 }, idempotency_key: key }), ConflictError);
    assert.deepEqual(other.errors.map((e) => e.field), ["idempotency_key"]);
    assert.match(other.errors[0]!.message, new RegExp(first.job_id));
  });

  it("rejects an invalid spec with a problem naming every field", async () => {
    const e = await rejection(c.submit({ tool: "sleep", priority: 11, ttl_hours: 0, prioity: 3 } as never), BadRequestError);
    assert.deepEqual([e.status, e.title, e.type], [400, "Bad Request", "https://overseer.dev/problems/bad-request"]);
    assert.deepEqual(e.fieldMessages(), {
      priority: "11 is outside 0-10",
      ttl_hours: "0 is outside 1-168",
      prioity: 'unknown field "prioity"; did you mean "priority"?',
    });
    assert.match(e.message, /priority: 11 is outside 0-10/);
    const params = await rejection(c.submit({ tool: "sleep", params: { seconds: "x" } }), BadRequestError);
    assert.deepEqual(Object.keys(params.fieldMessages()), ["params.seconds"]);
    const q = await rejection(c.listJobs({ limit: 0, status: "done" as never }), BadRequestError);
    assert.deepEqual(Object.keys(q.fieldMessages()).sort(), ["limit", "status"]);
    const missing = await rejection(c.get(NEVER_ISSUED), NotFoundError);
    assert.equal(missing.detail, `no job ${NEVER_ISSUED}`);
    assert.ok(missing instanceof ProblemError);
  });

  it("lists the tools and reports health", async () => {
    const tools = new Map((await c.tools()).map((t) => [t.name, t]));
    for (const name of ["noop", "sleep", "fail", "fasta_stats"]) assert.ok(tools.has(name), name);
    assert.equal(tools.get("sleep")!.params.steps!.default, 4);
    assert.equal(tools.get("noop")!.timeout_s, null);
    const health = await c.health();
    assert.equal(health.status, "healthy");
    assert.ok(health.queue_stats);
    assert.equal(health.ready, true);
    assert.match(health.version ?? "", /^\d+\.\d+\.\d+/);
    assert.equal(typeof health.uptime_seconds, "number");
    assert.equal(health.data_dir, daemon.dataDir);
    assert.equal(health.components?.store?.status, "healthy");
    assert.equal(health.components?.tools?.noop?.status, "healthy");
  });

  it("lists this node as the only one without a cluster", async () => {
    const nodes = await c.nodes();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]!.local, true);
    assert.equal(nodes[0]!.address, "local");
    assert.ok(nodes[0]!.tools.some((t) => t.name === "sleep"));
  });

  it("pauses and resumes a tool", async () => {
    const paused = await c.pauseTool("fasta_stats");
    assert.equal(paused.paused, true);
    assert.equal(paused.paused_reason, "paused by client 127.0.0.1");
    assert.match(paused.paused_since ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const resumed = await c.resumeTool("fasta_stats");
    assert.equal(resumed.paused, false);
    assert.equal(resumed.paused_reason, null);
    assert.equal(resumed.paused_since, null);
    await rejection(c.pauseTool("no-such-tool"), NotFoundError);
    const bad = await rejection(c.pauseTool("fasta_stats", { reason: "two\nlines" }), BadRequestError);
    assert.deepEqual(bad.errors.map((e) => e.field), ["reason"]);
    assert.equal((await c.tools()).find((t) => t.name === "fasta_stats")!.paused, false); // the refusal changed nothing
    const why = "reference data is being rebuilt \u2014 back at 14:00";
    assert.equal((await c.pauseTool("fasta_stats", { reason: why })).paused_reason, `paused by client 127.0.0.1: ${why}`);
    const refused = await rejection(c.resumeTool("fasta_stats", { reason: "x".repeat(501) }), BadRequestError);
    assert.deepEqual(refused.errors.map((e) => e.field), ["reason"]);
    assert.equal((await c.tools()).find((t) => t.name === "fasta_stats")!.paused, true); // still paused
    assert.equal((await c.resumeTool("fasta_stats", { reason: "reference data rebuilt" })).paused, false);
  });

  it("reports finished jobs over a window", async () => {
    await c.wait((await c.submit({ tool: "noop" })).job_id, { timeoutMs: 30_000 });
    const m = await c.metrics("1h");
    assert.equal(m.time_range, "1h");
    assert.ok(m.total_jobs >= 1);
    assert.ok(m.by_tool.noop!.completed >= 1);
    assert.equal((await c.metrics()).time_range, "24h");
    const bad = await rejection(c.metrics("2d" as never), BadRequestError);
    assert.equal(bad.errors[0]!.field, "time_range");
  });

  it("lists batches newest first, filtered by name and status", async () => {
    const name = `listed-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const first = await c.submitBatch({ name, jobs: [{ tool: "noop" }] });
    const second = await c.submitBatch({ name, jobs: [{ tool: "noop" }, { tool: "noop" }] });
    for (const j of [...first.job_ids, ...second.job_ids]) await c.wait(j, { timeoutMs: 20_000 });
    const page = await c.listBatches({ name });
    assert.deepEqual(page.batches.map((b) => b.batch_id), [second.batch_id, first.batch_id]);
    assert.equal(page.total_count, 2);
    assert.equal(page.batches[0]!.total_jobs, 2);
    const one = await c.listBatches({ name, status: "completed", limit: 1, offset: 1 });
    assert.deepEqual(one.batches.map((b) => b.batch_id), [first.batch_id]);
    const bad = await rejection(c.listBatches({ status: "done" as never }), BadRequestError);
    assert.equal(bad.errors[0]!.field, "status");
  });

  it("cancels and purges jobs by filter, after a dry run", async () => {
    const tag = `bulk-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const slow: string[] = [];
    for (let i = 0; i < 2; i++) slow.push((await c.submit({ tool: "sleep", params: { seconds: 30 }, labels: { bulk: tag } })).job_id);
    assert.equal((await c.cancelJobs({ labels: { bulk: tag }, dry_run: true })).matched, 2);
    assert.notEqual((await c.get(slow[0]!)).status, "cancelled");
    assert.deepEqual(await c.cancelJobs({ labels: { bulk: tag }, reason: "superseded by run 7" }), { matched: 2, cancelled: 2, dry_run: false });
    for (const j of slow) {
      assert.equal((await c.get(j)).status, "cancelled");
      assert.equal((await c.history(j)).at(-1)!.reason, "cancelled by client 127.0.0.1: superseded by run 7");
    }
    assert.deepEqual(await c.purgeJobs({ labels: { bulk: tag }, dry_run: true }), { matched: 2, deleted: 0, dry_run: true });
    assert.deepEqual(await c.purgeJobs({ labels: { bulk: tag } }), { matched: 2, deleted: 2, dry_run: false });
    await rejection(c.get(slow[0]!), NotFoundError);
    const bad = await rejection(c.purgeJobs(), BadRequestError);
    assert.equal(bad.errors[0]!.field, "all");
  });

  it("serves its OpenAPI document", async () => {
    const text = await c.openapi();
    assert.ok(text.startsWith("openapi: 3.1.0"));
    assert.ok(text.includes("/v1/openapi.yaml:"));
  });
});

describe("bearer tokens", () => {
  const daemon = new Daemon(["s3cret-token"]);
  before(() => daemon.start());
  after(() => daemon.remove());

  it("refuse a client without the token, on REST and the stream, and serve one with it", async () => {
    const anonymous = daemon.client();
    const refused = await rejection(anonymous.submit({ tool: "noop" }), UnauthorizedError);
    assert.equal(refused.status, 401);
    assert.equal(refused.detail, "a valid bearer token is required");
    assert.equal((await anonymous.health()).status, "ok");
    const watch = anonymous.watch({ all: true });
    await rejection(watch.next(), UnauthorizedError);
    await rejection(daemon.client({ token: "wrong" }).listJobs(), UnauthorizedError);
    const client = daemon.client({ token: "s3cret-token" });
    const job = await client.submit({ tool: "noop" });
    assert.equal((await client.wait(job.job_id, { timeoutMs: 10_000 })).status, "completed");
    assert.equal((await client.health()).status, "healthy");
  });

  it("take a token read from a file, trailing newline and all, on REST and the stream", async () => {
    const client = daemon.client({ token: "s3cret-token\n" });
    const job = await client.submit({ tool: "noop" });
    assert.equal((await client.wait(job.job_id, { timeoutMs: 10_000 })).status, "completed");
  });
});

describe("a draining daemon", () => {
  const daemon = new Daemon([], ["--drain-timeout", "30"]);
  before(() => daemon.start());
  after(() => daemon.remove());

  it("reports health draining and not ready", async () => {
    const c = daemon.client();
    const job = await c.submit({ tool: "sleep", params: { seconds: 30, steps: 30 } });
    await eventually(async () => (await c.get(job.job_id)).status === "running");
    const exited = daemon.drain();
    const health = await eventually(async () => {
      const h = await c.health();
      return h.status === "draining" ? h : undefined;
    }, 10_000);
    assert.equal(health!.ready, false);
    await daemon.remove();
    await exited;
  });
});
