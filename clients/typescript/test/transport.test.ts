// REST failures the real daemon does not produce, against node:http fakes:
// answers that are not JSON, break off or stall; refused and reset
// connections; Retry-After as a date; transfers slower than the timeout;
// timeouts past setTimeout's range; argument errors; tokens, header values,
// base URLs and dot-segment ids.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { Client, TransportError, UnavailableError } from "../src/index.js";
import { httpServer, within } from "./fakes.js";

/** The chain of `cause`s, as "Name: message (code)". */
function causes(e: unknown): string[] {
  const out: string[] = [];
  for (let x = (e as { cause?: unknown }).cause; x !== undefined && x !== null; x = (x as { cause?: unknown }).cause) {
    const err = x as { name?: string; message?: string; code?: string };
    out.push(`${err.name}: ${err.message}${err.code ? ` (${err.code})` : ""}`);
  }
  return out;
}

async function transportError(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof TransportError, `expected a TransportError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a TransportError, but it resolved");
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe("answers that are not the daemon's", () => {
  const server = httpServer((req, res) => {
    if (req.url === "/v1/tools") {
      res.writeHead(200, { "Content-Type": "text/html" }).end("<html>proxy login</html>");
    } else if (req.url === "/v1/cache/stats") {
      res.writeHead(200, { "Content-Type": "application/json" }).end("");
    } else if (req.url === "/v1/batches") {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" });
      res.write('{"batches":', () => req.socket.destroy());
    } else if (req.url?.startsWith("/v1/jobs/job_stall")) {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "100" });
      res.write('{"job_id":'); // and nothing more
    } else if (req.url === "/v1/jobs?wait=0") {
      req.socket.destroy(); // a reset before any answer
    } else if (req.url === "/v1/metrics") {
      const when = new Date(Date.now() + 120_000).toUTCString();
      res.writeHead(503, { "Content-Type": "application/problem+json", "Retry-After": when });
      res.end(JSON.stringify({ type: "x", title: "Service Unavailable", status: 503, detail: "busy" }));
    } else if (req.url === "/v1/nodes") {
      res.writeHead(503, { "Content-Type": "application/problem+json", "Retry-After": "7" });
      res.end(JSON.stringify({ title: "Service Unavailable", status: 503, detail: "busy" }));
    } else {
      res.writeHead(404).end();
    }
  });
  after(async () => (await server).close());

  it("a 200 with HTML or an empty body, a body cut off or stalled: TransportError with the cause", async () => {
    const c = new Client((await server).url, { timeoutMs: 400 });
    const html = await transportError(c.tools());
    assert.match(html.message, /200 answer \(text\/html, 24 characters\) is not JSON/);
    assert.ok(html.cause instanceof SyntaxError);
    const empty = await transportError(c.cacheStats());
    assert.match(empty.message, /an empty body/);
    assert.ok(empty.cause instanceof SyntaxError);
    const cut = await transportError(c.listBatches());
    assert.match(cut.message, /broke off/);
    assert.ok(causes(cut).length > 0, "the cause is kept");
    const stalled = await transportError(within(c.get("job_stall"), 5000, "a stalled body"));
    assert.match(stalled.message, /no answer within 400 ms/);
    assert.ok(causes(stalled).length > 0, "the cause is kept");
  });

  it("says refused or reset, and keeps fetch's error as the cause", async () => {
    const refused = await transportError(new Client(`http://127.0.0.1:${await closedPort()}`).tools());
    assert.match(refused.message, /connection refused \(ECONNREFUSED\)/);
    assert.ok(causes(refused).some((c) => c.includes("ECONNREFUSED")), causes(refused).join(" <- "));
    const reset = await transportError(new Client((await server).url).submit({ tool: "noop" }));
    assert.match(reset.message, /closed before the whole answer came|connection reset/);
    assert.ok(causes(reset).length > 0);
  });

  it("reads Retry-After as seconds or as an HTTP date", async () => {
    const c = new Client((await server).url);
    await assert.rejects(c.nodes(), (e) => e instanceof UnavailableError && e.retryAfter === 7);
    await assert.rejects(c.metrics(), (e) => {
      assert.ok(e instanceof UnavailableError);
      assert.ok(e.retryAfter !== undefined && e.retryAfter >= 110 && e.retryAfter <= 121, `retryAfter ${e.retryAfter}`);
      return true;
    });
  });
});

describe("uploads and downloads", () => {
  const SIZE = 24 * 1024;
  const headers: Record<string, string | undefined>[] = [];
  const server = httpServer((req, res) => {
    if (req.method === "POST" && req.url?.startsWith("/v1/files")) {
      headers.push({ "content-length": req.headers["content-length"], "transfer-encoding": req.headers["transfer-encoding"] });
      let size = 0;
      req.on("data", (d: Buffer) => { size += d.length; });
      req.on("end", () => {
        res.writeHead(201, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ file_id: "file_1", name: "x", size, sha256: "", created_at: "" }));
      });
    } else if (req.url === "/v1/files/file_slow") {
      // 24 pieces, one each 50 ms: 1.2 s in all, longer than the client's 400 ms timeout.
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(SIZE) });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(new Uint8Array(1024).fill(sent % 256));
        if (++sent === 24) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      res.on("close", () => clearInterval(timer));
    } else if (req.url === "/v1/files/file_stall") {
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(SIZE) });
      res.write(new Uint8Array(1024)); // then nothing
    } else {
      res.writeHead(404).end();
    }
  });
  after(async () => (await server).close());

  it("an upload longer than timeoutMs succeeds while data moves, and bytes keep their Content-Length", async () => {
    const c = new Client((await server).url, { timeoutMs: 400 });
    let pieces = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((r) => setTimeout(r, 50)); // the source's own pace
        if (pieces++ === 24) controller.close();
        else controller.enqueue(new Uint8Array(1024));
      },
    });
    const started = Date.now();
    assert.equal((await c.uploadFile(slow, { name: "slow.bin" })).size, SIZE);
    assert.ok(Date.now() - started > 400, "the upload was not slower than the timeout");
    assert.equal((await c.uploadFile(new Uint8Array(SIZE), { name: "bytes.bin" })).size, SIZE);
    assert.equal((await c.uploadFile(new Blob([new Uint8Array(SIZE)]), { name: "blob.bin" })).size, SIZE);
    assert.deepEqual(headers.slice(-2).map((h) => h["content-length"]), [String(SIZE), String(SIZE)]);
  });

  it("a download longer than timeoutMs succeeds while data moves; a stalled one is a TransportError", async () => {
    const c = new Client((await server).url, { timeoutMs: 400 });
    const whole = await c.downloadFile("file_slow");
    assert.equal(whole.length, SIZE);
    assert.equal(whole[SIZE - 1], 23);
    let got = 0;
    for await (const chunk of (await c.downloadStream("file_slow")) as unknown as AsyncIterable<Uint8Array>) got += chunk.length;
    assert.equal(got, SIZE);

    const stalled = await transportError(within(c.downloadFile("file_stall"), 5000, "a stalled download"));
    assert.match(stalled.message, /no data for 400 ms/);
    const stream = await c.downloadStream("file_stall");
    const reader = stream.getReader();
    assert.equal((await reader.read()).value?.length, 1024);
    const e = await transportError(within(reader.read(), 5000, "a stalled stream"));
    assert.match(e.message, /no data for 400 ms/);
    assert.ok(causes(e).length > 0);
  });
});

describe("timeouts and argument errors", () => {
  const queries: string[] = [];
  const server = httpServer((req, res) => {
    queries.push(req.url ?? "");
    setTimeout(() => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(req.url === "/v1/tools" ? { tools: [] } : { job_id: "job_1", status: "pending", position_in_queue: 0, links: {} }));
    }, 30);
  });
  after(async () => (await server).close());

  it("a timeout past 2^31-1 ms or Infinity does not fire at once; a negative or NaN one is a RangeError", async () => {
    const url = (await server).url;
    assert.deepEqual(await new Client(url, { timeoutMs: 3e9 }).tools(), []);
    assert.deepEqual(await new Client(url, { timeoutMs: Infinity }).tools(), []);
    const r = await new Client(url).run({ tool: "noop" }, { waitMs: 2 ** 32 });
    assert.equal(r.finished, false);
    assert.equal(queries.at(-1), "/v1/jobs?wait=86400000ms"); // a day: the longest wait the daemon takes
    for (const bad of [-1, NaN, 0]) assert.throws(() => new Client(url, { timeoutMs: bad }), RangeError);
    assert.throws(() => new Client(url, { reconnectTimeoutMs: -5 }), RangeError);
    assert.throws(() => new Client(url, { streamBufferLimit: 1 }), RangeError);
    await assert.rejects(new Client(url).wait("job_1", { timeoutMs: NaN }), RangeError);
    await assert.rejects(new Client(url).wait("job_1", { timeoutMs: -1 }), RangeError);
  });

  it("methods reject on bad arguments, never throw", async () => {
    const c = new Client((await server).url);
    const calls: [string, () => Promise<unknown>, new (...a: never[]) => Error][] = [
      ["get(lone surrogate)", () => c.get("job_\ud800"), TypeError],
      ["logs(lone surrogate)", () => c.logs("job_\udc00"), TypeError],
      ["listJobs(invalid Date)", () => c.listJobs({ created_after: new Date("x") }), RangeError],
      ["cancelJobs(invalid Date)", () => c.cancelJobs({ created_before: new Date(NaN) }), RangeError],
      ["downloadFile(bad range)", () => c.downloadFile("file_1", { range: [-1] }), RangeError],
      ["uploadFile(no name)", () => c.uploadFile(new Uint8Array(1)), TypeError],
      ["cancel(id)", () => c.cancel(""), TypeError],
    ];
    const before = queries.length;
    for (const [name, call, cls] of calls) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => { promise = call(); }, `${name} threw synchronously`);
      await assert.rejects(promise!, cls, name);
    }
    assert.equal(queries.length, before, "a request went out");
  });
});

describe("tokens, headers and URLs", () => {
  const seen: { url: string; auth: string | undefined }[] = [];
  const server = httpServer((req, res) => {
    seen.push({ url: req.url ?? "", auth: req.headers.authorization });
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ tools: [] }));
  });
  after(async () => (await server).close());

  it("trims a token read from a file, and refuses one with a line break naming the position, never the token", async () => {
    const url = (await server).url;
    await new Client(url, { token: "s3cret-token\n" }).tools();
    assert.equal(seen.at(-1)!.auth, "Bearer s3cret-token");
    for (const token of ["s3cret-token\r\nX-Injected: 1", "s3cret token", "s3cret-t\u00f6ken"]) {
      assert.throws(() => new Client(url, { token }), (e) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /at position \d+/);
        assert.ok(!e.message.includes("s3cret"), `the message shows the token: ${e.message}`);
        return true;
      });
    }
    const c = new Client(url, { token: "s3cret-token" });
    await assert.rejects(c.submit({ tool: "noop" }, { traceparent: "00-abc\r\nX-Injected: s3cret" }), (e) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /traceparent header .* at position 6/);
      assert.ok(!e.message.includes("s3cret") && !e.message.includes("X-Injected"), e.message);
      return true;
    });
  });

  it("refuses a base URL with a query or fragment, and ids that are dot-segments", async () => {
    const url = (await server).url;
    for (const bad of [`${url}/?x=1`, `${url}/overseer?`, `${url}/#frag`]) assert.throws(() => new Client(bad), TypeError, bad);
    const before = seen.length;
    const c = new Client(url);
    for (const call of [() => c.cancel("."), () => c.get(".."), () => c.getBatch("."), () => c.pauseTool(".."), () => c.deleteFile(".")]) {
      await assert.rejects(call(), TypeError);
    }
    assert.equal(seen.length, before, "a dot-segment id reached the server");
    await c.tools();
    assert.equal(seen.at(-1)!.url, "/v1/tools");
  });
});
