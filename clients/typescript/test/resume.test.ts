// The reconnect logic of watch() against a scripted stream server: each
// connection answers the subscription, sends some events and drops; the watch
// must resubscribe with since = the last seq it yielded, skip anything at or
// below it, and give up once reconnecting fails for reconnectTimeoutMs.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { WebSocketServer } from "ws";
import { Client, TransportError, type StreamItem } from "../src/index.js";
import { nodeWebSocket } from "./daemon.js";

const progress = (seq: number) => ({
  type: "progress", seq, job_id: "job_1", at: "2026-11-25T00:00:00.000Z",
  progress: { percent: seq, current_step: 0, total_steps: 0, step_name: "" },
});

/** Connection n sends script[n] after `subscribed`, then drops; after the last one the server stops. */
async function scripted(script: (number | Record<string, unknown>)[][], since?: number) {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => server.once("listening", r));
  const subscribes: Record<string, unknown>[] = [];
  server.on("connection", (ws) => {
    ws.once("message", (data) => {
      const n = subscribes.length;
      subscribes.push(JSON.parse(String(data)) as Record<string, unknown>);
      ws.send(JSON.stringify({ type: "subscribed", job_id: "job_1", seq: 2 }));
      for (const item of script[n] ?? []) ws.send(JSON.stringify(typeof item === "number" ? progress(item) : item));
      ws.close(1001, "going away");
      if (n + 1 >= script.length) server.close();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new Client(url, { webSocket: nodeWebSocket, reconnectTimeoutMs: 500, timeoutMs: 2000 });
  const items: StreamItem[] = [];
  await assert.rejects(async () => {
    for await (const item of client.watch({ job_id: "job_1", ...(since === undefined ? {} : { since }) })) items.push(item);
  }, TransportError);
  return { items, subscribes };
}

describe("watch reconnects", () => {
  it("resume after the last seq and skip repeats", async () => {
    const { items, subscribes } = await scripted([[3, 4], [4, 5, 3, 6], [6, 7]]);
    assert.equal(items[0]!.type, "subscribed");
    assert.equal(items.filter((i) => i.type === "subscribed").length, 1, "one Subscribed per watch");
    assert.deepEqual(items.slice(1).map((i) => i.seq), [3, 4, 5, 6, 7]);
    assert.deepEqual(subscribes.map((s) => s.since), [undefined, 4, 6]);
    assert.ok(subscribes.every((s) => s.job_id === "job_1"));
  });

  it("start from a given since", async () => {
    const { items, subscribes } = await scripted([[1, 2, 3, 4], [4, 5]], 2);
    assert.deepEqual(items.slice(1).map((i) => i.seq), [3, 4, 5]);
    assert.deepEqual(subscribes.map((s) => s.since), [2, 4]);
  });

  it("move the resume point to a caught_up's seq, without yielding it", async () => {
    // The replay read up to seq 9 (other jobs' events past 3): the next
    // connection resumes there, not at 3.
    const { items, subscribes } = await scripted([[3, { type: "caught_up", job_id: "job_1", seq: 9 }], [10]], 2);
    assert.deepEqual(items.map((i) => i.type), ["subscribed", "progress", "progress"]);
    assert.deepEqual(items.slice(1).map((i) => i.seq), [3, 10]);
    assert.deepEqual(subscribes.map((s) => s.since), [2, 9]);
  });
});
