// Synchronous runs, long polls, trace ids, estimates and immediate tools
// against a real overseerd (docs/api.md, "Synchronous runs, trace ids and estimates").
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { BadRequestError, type Client, type Job } from "../src/index.js";
import { Daemon, eventually } from "./daemon.js";

/** A fresh W3C trace id and a traceparent header that carries it. */
function newTrace(): [string, string] {
  const trace = randomBytes(16).toString("hex");
  return [trace, `00-${trace}-b7ad6b7169203331-01`];
}

async function badFields(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof BadRequestError, String(e));
    return e.errors.map((f) => f.field);
  }
  assert.fail("expected a BadRequestError, but it resolved");
}

describe("synchronous runs and trace ids", () => {
  const daemon = new Daemon();
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(() => daemon.remove());

  it("run() of a quick job resolves to its finished view", async () => {
    const r = await c.run({ tool: "noop" }, { waitMs: 20_000 });
    assert.equal(r.finished, true);
    if (!r.finished) return;
    assert.equal(r.job.status, "completed");
    assert.equal(r.job_id, r.job.job_id);
    assert.deepEqual(r.job.result, {});
    // Whatever the final status: a failing job is a finished run too.
    const failed = await c.run({ tool: "fail", params: { failures: 5 } }, { waitMs: 20_000 });
    assert.ok(failed.finished && failed.job.status === "failed");
    // A cache hit has ended before the answer: its view; submit() folds it into a submit answer.
    const cached = { tool: "sleep", params: { seconds: 0.05 + (randomBytes(2).readUInt16LE() % 1000) / 1e6 }, use_cache: true };
    const miss = await c.run(cached, { waitMs: 20_000 });
    const hit = await c.run(cached, { waitMs: 20_000 });
    assert.ok(miss.finished && hit.finished);
    assert.equal(hit.job.cache_info?.source_job_id, miss.job_id);
    const again = await c.submit(cached);
    assert.deepEqual([again.status, again.position_in_queue], ["completed", 0]);
  });

  it("run() that outlasts its wait resolves to the submit answer, then get() long-polls the end", async () => {
    const r = await c.run({ tool: "sleep", params: { seconds: 3 } }, { waitMs: 200 });
    assert.equal(r.finished, false);
    if (r.finished) return;
    assert.ok(["pending", "running"].includes(r.submitted.status));
    assert.equal(r.job_id, r.submitted.job_id);
    const early = await c.get(r.job_id, { waitMs: 100 });
    assert.ok(["pending", "running", "completed"].includes(early.status));
    const done = await c.get(r.job_id, { waitMs: 10_000 });
    assert.equal(done.status, "completed");
    assert.equal((done.result as { slept_seconds: number }).slept_seconds, 3);
    assert.equal((await c.run({ tool: "sleep", params: { seconds: 3 } }, { waitMs: 0 })).finished, false);
  });

  it("a wait longer than the client timeout is not cut by it", async () => {
    const short = daemon.client({ timeoutMs: 1_000 });
    const r = await short.run({ tool: "sleep", params: { seconds: 1.5 } }, { waitMs: 20_000 });
    assert.equal(r.finished, true);
    const sub = await short.submit({ tool: "sleep", params: { seconds: 1.5 } });
    assert.equal((await short.get(sub.job_id, { waitMs: 20_000 })).status, "completed");
  });

  it("a bad wait is a 400 naming wait", async () => {
    assert.deepEqual(await badFields(c.run({ tool: "noop" }, { waitMs: -1000 })), ["wait"]);
  });

  it("traceparent and trace_id round-trip, filter lists and bulk operations, and reach stream events", async () => {
    const [trace, parent] = newTrace();
    const sub = await c.submit({ tool: "noop" }, { traceparent: parent });
    const ran = await c.run({ tool: "noop" }, { traceparent: parent, waitMs: 20_000 });
    assert.ok(ran.finished);
    assert.equal(ran.job.trace_id, trace);
    const [own] = newTrace(); // the spec's trace id wins over the header
    const specTraced = await c.submit({ tool: "noop", trace_id: own }, { traceparent: parent });
    const batch = await c.submitBatch({ jobs: [{ tool: "noop" }, { tool: "noop" }] }, { traceparent: parent });
    assert.equal((await c.get(sub.job_id, { waitMs: 20_000 })).trace_id, trace);
    assert.equal((await c.get(specTraced.job_id, { waitMs: 20_000 })).trace_id, own);
    for (const jobId of batch.job_ids) assert.equal((await c.get(jobId, { waitMs: 20_000 })).trace_id, trace);
    const listed = await c.listJobs({ trace_id: trace });
    assert.deepEqual(new Set(listed.jobs.map((j) => j.job_id)), new Set([sub.job_id, ran.job_id, ...batch.job_ids]));
    assert.deepEqual((await c.listJobs({ trace_id: own })).jobs.map((j) => j.job_id), [specTraced.job_id]);
    assert.equal((await c.get((await c.submit({ tool: "noop" })).job_id)).trace_id, undefined);
    assert.equal((await c.cancelJobs({ trace_id: trace, dry_run: true })).matched, 0);
    assert.equal((await c.purgeJobs({ trace_id: trace, dry_run: true })).matched, 4);
    assert.equal((await c.purgeJobs({ trace_id: trace })).deleted, 4);
    assert.equal((await c.listJobs({ trace_id: trace })).total_count, 0);
    assert.deepEqual(await badFields(c.listJobs({ trace_id: "not-a-trace" })), ["trace_id"]);
    assert.deepEqual(await badFields(c.submit({ tool: "noop" }, { traceparent: "00-nonsense" })), ["traceparent"]);

    // A traced job's snapshot and stream events carry the trace id.
    const [trace2, parent2] = newTrace();
    const long = await c.submit({ tool: "sleep", params: { seconds: 30, steps: 30 } }, { traceparent: parent2 });
    const watch = c.watch({ job_id: long.job_id });
    try {
      for await (const item of watch) {
        if (item.type === "subscribed") {
          assert.equal(item.snapshot?.trace_id, trace2);
          assert.equal((await c.cancelJobs({ trace_id: trace2 })).cancelled, 1);
        } else if (item.type === "transition" && item.to === "cancelled") {
          assert.equal(item.trace_id, trace2);
          break;
        }
      }
    } finally {
      watch.close();
    }
  });
});

describe("estimates", () => {
  const daemon = new Daemon();
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(() => daemon.remove());

  it("appear in the submit answer and the view after a few runs of a tool", async () => {
    const quick = { tool: "sleep", params: { seconds: 0.1 } };
    const first = await c.submit(quick);
    assert.equal(first.estimated_duration_s, undefined); // no history yet
    assert.equal((await c.get(first.job_id, { waitMs: 20_000 })).status, "completed");
    for (let i = 0; i < 3; ++i) assert.equal((await c.run(quick, { waitMs: 20_000 })).finished, true);
    const answer = (await eventually(async () => {
      const s = await c.submit(quick);
      if (s.estimated_duration_s === undefined) await new Promise((r) => setTimeout(r, 200));
      return s.estimated_duration_s === undefined ? undefined : s;
    }))!;
    assert.ok(answer.estimated_duration_s! > 0);
    // A running job: what remains of a typical run, the typical run, and the
    // engine's ETA from the progress rate (the sleep tool gives none).
    const long = await c.submit({ tool: "sleep", params: { seconds: 20, steps: 20 } });
    const view: Job = (await eventually(async () => {
      const v = await c.get(long.job_id);
      return v.status === "running" && v.progress.estimated_completion_source === "rate" ? v : undefined;
    }))!;
    assert.ok(view.progress.estimated_completion !== undefined);
    assert.ok(view.estimated_duration_s !== undefined && view.estimated_duration_s >= 0);
    assert.ok(view.estimated_run_s !== undefined && view.estimated_run_s > 0);
    await c.cancel(long.job_id);
    assert.equal((await c.get(long.job_id)).estimated_duration_s, undefined); // only while unfinished
  });
});

describe("an immediate tool", () => {
  const dir = mkdtempSync(join(tmpdir(), "overseer-ts-client-tools-"));
  const script = join(dir, "env.sh");
  writeFileSync(script, `printf '@overseer {"result": {"trace_id":"%s"}}\\n' "$OVERSEER_TRACE_ID"\n`);
  const tools = join(dir, "tools.json");
  writeFileSync(tools, JSON.stringify({ tools: [
    { name: "env", mode: "immediate", command: ["bash", script] },
    { name: "writer", command: ["bash", script], outputs: ["out.txt", "*.csv"] },
  ] }));
  const daemon = new Daemon([], ["--tools", tools]);
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(async () => {
    await daemon.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is listed with its mode, answers run() with the finished job and submit() at once", async () => {
    const modes = Object.fromEntries((await c.tools()).map((t) => [t.name, t.mode]));
    assert.deepEqual([modes.env, modes.sleep], ["immediate", "queued"]);
    const listed = await c.tools();
    assert.deepEqual(listed.find((t) => t.name === "writer")!.outputs, ["out.txt", "*.csv"]);
    assert.equal(listed.find((t) => t.name === "env")!.outputs, undefined);
    const [trace, parent] = newTrace();
    const r = await c.run({ tool: "env" }, { traceparent: parent });
    assert.ok(r.finished);
    assert.deepEqual([r.job.status, r.job.result], ["completed", { trace_id: trace }]);
    const sub = await c.submit({ tool: "env" });
    assert.equal(typeof sub.position_in_queue, "number");
    assert.equal((await c.get(sub.job_id, { waitMs: 20_000 })).status, "completed");
  });
});
