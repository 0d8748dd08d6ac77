// A watch's life against scripted stream servers: close() closes the socket
// at once; a silent stream is probed and, unanswered, resumed on a new
// connection; a consumer that stops reading bounds what the client holds
// (close, then resume with since, nothing lost or repeated); the reconnect
// timeout counts from the loss, and close() cuts the refusal check short.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type WebSocket from "ws";
import { Client, TransportError, WaitTimeout, type StreamItem, type WebSocketLike } from "../src/index.js";
import { PROBE } from "../src/stream.js";
import { eventually, nodeWebSocket } from "./daemon.js";
import { blackHole, closedEvent, within, wsServer } from "./fakes.js";

const progress = (seq: number) => JSON.stringify({
  type: "progress", seq, job_id: "job_1", at: "2026-11-25T00:00:00.000Z",
  progress: { percent: 0, current_step: 0, total_steps: 0, step_name: "" },
});

/** nodeWebSocket, keeping each socket it opens. */
function recording() {
  const sockets: WebSocket[] = [];
  const factory = (url: string, token: string | undefined): WebSocketLike => {
    const ws = nodeWebSocket(url, token);
    sockets.push(ws as unknown as WebSocket);
    return ws;
  };
  return { sockets, factory };
}

const since = (message: string) => (JSON.parse(message) as { since?: number }).since;

describe("Watch.close()", () => {
  const server = wsServer((_n, ws) => {
    ws.once("message", () => {
      ws.send(JSON.stringify({ type: "subscribed", job_id: "job_1", seq: 2 }));
      for (let seq = 3; seq <= 7; seq++) ws.send(progress(seq));
    });
  });
  after(async () => (await server).close());

  it("closes the socket at once, and a later next() is done although events are held", async () => {
    const { sockets, factory } = recording();
    let received = 0;
    const client = new Client((await server).url, {
      webSocket: (url, token) => {
        const ws = factory(url, token);
        (ws as unknown as WebSocket).on("message", () => received++);
        return ws;
      },
    });
    const watch = client.watch({ job_id: "job_1" });
    assert.equal((await watch.next()).value?.type, "subscribed");
    await eventually(() => received === 6, 5000); // every event is held, unread
    watch.close();
    await within(closedEvent(sockets[0]!), 3000, "the socket closing after close()");
    assert.deepEqual(await watch.next(), { done: true, value: undefined });
  });
});

describe("an idle stream", () => {
  it("is probed, and resumed with since on a new connection when the probe goes unanswered", async () => {
    const server = await wsServer((n, ws) => {
      ws.once("message", () => {
        ws.send(JSON.stringify({ type: "subscribed", job_id: "job_1", seq: 2 }));
        ws.send(progress(n === 0 ? 3 : 4));
        // Then silence, probes unanswered: a frozen daemon or a dead link.
      });
    });
    try {
      const client = new Client(server.url, { webSocket: nodeWebSocket, streamIdleMs: 150, timeoutMs: 300 });
      const watch = client.watch({ job_id: "job_1" });
      const items: StreamItem[] = [];
      for (let i = 0; i < 3; i++) items.push((await within(watch.next(), 5000, `item ${i}`)).value as StreamItem);
      watch.close();
      assert.deepEqual(items.map((i) => [i.type, i.seq]), [["subscribed", 2], ["progress", 3], ["progress", 4]]);
      assert.ok(server.connections[0]!.received.includes(PROBE), "no probe was sent");
      assert.equal(since(server.connections[1]!.received[0]!), 3);
    } finally {
      await server.close();
    }
  });

  it("stays on its connection while probes are answered", async () => {
    const server = await wsServer((_n, ws) => {
      ws.on("message", (data) => {
        const m = JSON.parse(String(data)) as { op: string };
        ws.send(m.op === "subscribe" ? JSON.stringify({ type: "subscribed", all: true, seq: 2 }) : JSON.stringify({ type: "unsubscribed", nodes: true }));
      });
    });
    try {
      const client = new Client(server.url, { webSocket: nodeWebSocket, streamIdleMs: 50, timeoutMs: 1000 });
      const watch = client.watch({ all: true });
      await watch.next();
      const pending = watch.next();
      await eventually(() => server.connections[0]!.received.filter((m) => m === PROBE).length >= 3, 5000);
      watch.close();
      assert.deepEqual(await pending, { done: true, value: undefined });
      assert.equal(server.connections.length, 1);
    } finally {
      await server.close();
    }
  });
});

describe("a consumer that stops reading", () => {
  const LAST = 60;
  // Each connection: subscribed, then every event after its since, at once.
  const server = wsServer((_n, ws) => {
    ws.once("message", (data) => {
      const from = since(String(data)) ?? 0;
      ws.send(JSON.stringify({ type: "subscribed", all: true, seq: from }));
      for (let seq = from + 1; seq <= LAST; seq++) ws.send(progress(seq));
    });
  });
  after(async () => (await server).close());

  it("makes the client close the connection at the bound, then resume with since without a gap or a repeat", async () => {
    const fake = await server;
    const client = new Client(fake.url, { webSocket: nodeWebSocket, streamBufferLimit: 10 });
    const watch = client.watch({ all: true });
    assert.equal((await watch.next()).value?.type, "subscribed");
    // The consumer is busy elsewhere: the client must not take all 60.
    await eventually(() => fake.connections[0]!.closed, 5000);
    const seqs: number[] = [];
    while (seqs.at(-1) !== LAST) {
      const item = (await within(watch.next(), 5000, `the event after ${seqs.at(-1)}`)).value as StreamItem;
      seqs.push(item.seq);
    }
    watch.close();
    assert.deepEqual(seqs, Array.from({ length: LAST }, (_, i) => i + 1));
    const resumes = fake.connections.map((c) => since(c.received[0]!));
    assert.ok(resumes.length >= 2, "no resume");
    assert.equal(resumes[0], undefined);
    // While the consumer read nothing, the client held at most 10 messages.
    assert.ok(resumes[1]! <= 10, `resumes ${resumes.join(",")}`);
    // Every resume starts after what the consumer had read.
    for (let i = 2; i < resumes.length; i++) assert.ok(resumes[i]! > resumes[i - 1]!, `resumes ${resumes.join(",")}`);
  });
});

describe("the reconnect timeout", () => {
  const hole = blackHole();
  after(async () => (await hole).close());

  it("counts from the loss of the connection, its first attempt included", async () => {
    const client = new Client((await hole).url, { webSocket: nodeWebSocket, timeoutMs: 1000, reconnectTimeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(within(client.watch({ all: true }).next(), 5000, "giving up"), TransportError);
    const took = Date.now() - started;
    assert.ok(took < 900, `gave up after ${took} ms for a 300 ms reconnect timeout`);
  });

  it("ends a wait() on time although the refusal check hangs", async () => {
    // The upgrade times out after 1000 ms; then GET /v1/stream (why?) hangs too.
    const client = new Client((await hole).url, { webSocket: nodeWebSocket, timeoutMs: 1000, reconnectTimeoutMs: null });
    const started = Date.now();
    await assert.rejects(within(client.wait("job_1", { timeoutMs: 1200 }), 5000, "the wait"), WaitTimeout);
    const took = Date.now() - started;
    assert.ok(took < 1700, `the wait of 1200 ms ended after ${took} ms`);
  });
});
