// watch() against a real overseerd: snapshots, replay with since, batch and
// filtered watches, refused subscriptions, and a daemon killed and restarted mid-watch.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StreamError, TERMINAL, type Client, type StreamItem, type Transition } from "../src/index.js";
import { Daemon } from "./daemon.js";

const row = (t: Transition) => [t.from, t.to, t.attempt, t.reason];

function transitionsOf(items: StreamItem[], jobId: string) {
  return items.flatMap((i) => (i.type === "transition" && i.job_id === jobId ? [row(i)] : []));
}

function assertStrictlyIncreasing(items: StreamItem[]): void {
  const seqs = items.filter((i) => i.type !== "subscribed").map((i) => i.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), "an event was repeated or out of order");
}

describe("watch", () => {
  const daemon = new Daemon();
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(() => daemon.remove());

  it("starts with the snapshot and yields every later transition and log line once", async () => {
    // Delayed, so the watch is subscribed before the attempt starts and logs it.
    const job = await c.submit({ tool: "sleep", params: { seconds: 0.3, steps: 3 }, delay_s: 0.5 });
    const items: StreamItem[] = [];
    for await (const item of c.watch({ job_id: job.job_id, logs: true })) {
      items.push(item);
      if (item.type === "transition" && TERMINAL.has(item.to)) break;
    }
    const first = items[0]!;
    assert.equal(first.type, "subscribed");
    assert.equal(first.type === "subscribed" && first.snapshot?.status, "pending");
    assertStrictlyIncreasing(items);
    assert.ok(items.slice(1).every((i) => i.seq > first.seq));
    const history = (await c.history(job.job_id)).map(row);
    assert.deepEqual(transitionsOf(items, job.job_id), history.slice(1));
    assert.equal(history.at(-1)![1], "completed");
    assert.ok(items.some((i) => i.type === "log" && i.message.includes("attempt 1")), "logs: true brought no log event");
  });

  it("replays a finished job's whole history with since: 0", async () => {
    const job = await c.submit({ tool: "fail", params: { failures: 1 }, retry: { max_attempts: 2, initial_backoff_ms: 10 } });
    assert.equal((await c.wait(job.job_id, { timeoutMs: 20_000 })).status, "completed");
    const items: StreamItem[] = [];
    for await (const item of c.watch({ job_id: job.job_id, since: 0 })) {
      items.push(item);
      if (item.type === "transition" && item.to === "completed") break;
    }
    assert.equal(items[0]!.type === "subscribed" && items[0]!.since, 0);
    assert.deepEqual(transitionsOf(items, job.job_id), (await c.history(job.job_id)).map(row));
  });

  it("watches a batch, and an all-jobs watch filtered by label sees only its job", async () => {
    const unknown = c.watch({ batch_id: "batch_01M8832WF3AQTGGB5DVGN2756T" });
    await assert.rejects(unknown.next(), (e) => e instanceof StreamError && /no batch/.test(e.message));
    const allWatch = c.watch({ all: true, labels: { lane: "watched" } });
    const ack = (await allWatch.next()).value as StreamItem;
    assert.equal(ack.type === "subscribed" && ack.all, true);
    const batch = await c.submitBatch({ jobs: [{ tool: "noop", labels: { lane: "watched" } }, { tool: "noop" }] });
    const batchItems: StreamItem[] = [];
    const finished = new Set<string>();
    for await (const item of c.watch({ batch_id: batch.batch_id, since: ack.seq })) {
      batchItems.push(item);
      if (item.type === "transition" && TERMINAL.has(item.to)) finished.add(item.job_id);
      if (finished.size === batch.job_ids.length) break;
    }
    assert.ok(batchItems.slice(1).every((i) => i.type !== "subscribed" && i.batch_id === batch.batch_id));
    for (const jobId of batch.job_ids) {
      assert.deepEqual(transitionsOf(batchItems, jobId), (await c.history(jobId)).map(row));
    }
    const seen = new Set<string>();
    for await (const item of allWatch) {
      if (item.type !== "subscribed") seen.add(item.job_id);
      if (item.type === "transition" && TERMINAL.has(item.to)) break;
    }
    assert.deepEqual([...seen], [batch.job_ids[0]]);
  });

  it("rejects a watch of an unknown job with a StreamError", async () => {
    await assert.rejects(c.wait("job_01M880PHE1F1GN54T6TES72772", { timeoutMs: 5000 }), StreamError);
  });
});

describe("watch across a restart", () => {
  const daemon = new Daemon();
  before(() => daemon.start());
  after(() => daemon.remove());

  it("yields every transition exactly once, in order, after a kill -9 and restart on the same port", async () => {
    const c = daemon.client();
    const port = daemon.port;
    const job = await c.submit({ tool: "sleep", params: { seconds: 2, steps: 8 } });
    const items: StreamItem[] = [];
    let crash: Promise<void> | undefined;
    for await (const item of c.watch({ job_id: job.job_id, logs: true })) {
      items.push(item);
      // Kill while the job runs and the watch waits for its next event.
      if (crash === undefined && item.type === "progress") crash = daemon.restartAfterKill();
      if (item.type === "transition" && TERMINAL.has(item.to)) break;
    }
    assert.ok(crash, "no progress event came before the job finished");
    await crash;
    assert.equal(daemon.port, port);
    assertStrictlyIncreasing(items);
    const watched = transitionsOf(items, job.job_id);
    const history = (await c.history(job.job_id)).map(row);
    assert.deepEqual(watched, history.slice(history.length - watched.length));
    assert.ok(watched.some(([from, to, , reason]) => from === "running" && to === "pending" && reason === "interrupted"),
      "the restart is not in the watch");
    assert.equal(watched.at(-1)![1], "completed");
  });
});
