// Files and webhook deliveries against a real overseerd: upload (bytes, a
// Blob from disk, a stream), list, download whole and a range, delete, the
// 413 of --max-file-size, and a job's `notify` delivered to a local receiver.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NotFoundError, PayloadTooLargeError, type Client, type Delivery, type Json } from "../src/index.js";
import { Daemon, eventually } from "./daemon.js";

// Every byte value, and a few pieces more than a 64 KiB read.
const CONTENT = new Uint8Array(256 * 1024 + 4);
for (let i = 0; i < 256 * 1024; i++) CONTENT[i] = i % 256;
CONTENT.set(new TextEncoder().encode("tail"), 256 * 1024);
const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

async function rejection<E extends Error>(promise: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${cls.name}, but it resolved`);
}

/** A file on disk as a Blob: streamed by fs.openAsBlob (Node >= 19.8), else read. */
async function blobOf(path: string): Promise<Blob> {
  const openAsBlob = (fs as unknown as { openAsBlob?: (p: string) => Promise<Blob> }).openAsBlob;
  return openAsBlob ? await openAsBlob(path) : new Blob([fs.readFileSync(path)]);
}

describe("files", () => {
  const daemon = new Daemon();
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(() => daemon.remove());

  it("uploads bytes, lists, downloads whole and by range byte-exact, deletes", async () => {
    const info = await c.uploadFile(CONTENT, { name: "bytes ü.bin" });
    assert.match(info.file_id, /^file_[0-9A-Z]{26}$/);
    assert.equal(info.name, "bytes ü.bin");
    assert.equal(info.size, CONTENT.length);
    assert.equal(info.sha256, sha256(CONTENT));
    assert.ok(!Number.isNaN(Date.parse(info.created_at)));

    assert.deepEqual(await c.downloadFile(info.file_id), CONTENT);
    assert.deepEqual(await c.downloadFile(info.file_id, { range: [1, 3] }), CONTENT.slice(1, 4));
    assert.deepEqual(await c.downloadFile(info.file_id, { range: [CONTENT.length - 4] }), new TextEncoder().encode("tail"));
    // An end past the file is clipped.
    assert.deepEqual(await c.downloadFile(info.file_id, { range: [CONTENT.length - 2, CONTENT.length + 100] }), new TextEncoder().encode("il"));

    assert.ok((await c.listFiles({ limit: 1000 })).files.some((f) => f.file_id === info.file_id));
    assert.equal(await c.deleteFile(info.file_id), true);
    await rejection(c.downloadFile(info.file_id), NotFoundError);
    await rejection(c.deleteFile(info.file_id), NotFoundError);
    assert.ok(!(await c.listFiles({ limit: 1000 })).files.some((f) => f.file_id === info.file_id));
  });

  it("uploads a file from disk as a Blob and a ReadableStream, and streams a download", async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), "overseer-ts-files-"));
    try {
      const path = join(dir, "input.dat");
      fs.writeFileSync(path, CONTENT);
      const fromBlob = await c.uploadFile(await blobOf(path), { name: "input.dat" });
      assert.equal(fromBlob.size, CONTENT.length);
      assert.equal(fromBlob.sha256, sha256(CONTENT));
      const file = new File([CONTENT], "named.dat");
      assert.equal((await c.uploadFile(file)).name, "named.dat");
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(CONTENT.slice(0, 1000));
          controller.enqueue(CONTENT.slice(1000));
          controller.close();
        },
      });
      const fromStream = await c.uploadFile(stream, { name: "streamed.dat" });
      assert.equal(fromStream.sha256, sha256(CONTENT));

      const chunks: Uint8Array[] = [];
      for await (const chunk of (await c.downloadStream(fromStream.file_id)) as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
      assert.equal(sha256(Buffer.concat(chunks)), sha256(CONTENT));
      await rejection(c.downloadStream("file_01ARZ3NDEKTSV4RRFFQ69G5FAV"), NotFoundError);
      await assert.rejects(c.uploadFile(CONTENT), TypeError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("pages the file list with a cursor", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await c.uploadFile(new TextEncoder().encode(`page ${i}`), { name: `page${i}.txt` })).file_id);
    const seen: string[] = [];
    let page = await c.listFiles({ limit: 1 });
    for (;;) {
      assert.equal(page.files.length, 1);
      seen.push(...page.files.map((f) => f.file_id));
      if (!page.has_next) {
        assert.equal(page.next_cursor, undefined);
        break;
      }
      page = await c.listFiles({ limit: 1, cursor: page.next_cursor! });
    }
    assert.equal(new Set(seen).size, seen.length);
    for (const id of ids) assert.ok(seen.includes(id));
  });
});

describe("--max-file-size", () => {
  const daemon = new Daemon([], ["--max-file-size", "1K"]);
  let c: Client;
  before(async () => {
    await daemon.start();
    c = daemon.client();
  });
  after(() => daemon.remove());

  it("refuses a bigger upload with 413, keeps nothing, and takes a small one", async () => {
    const refused = await rejection(c.uploadFile(new Uint8Array(4096), { name: "big.bin" }), PayloadTooLargeError);
    assert.equal(refused.status, 413);
    await rejection(c.uploadFile(new Blob([new Uint8Array(100_000)]), { name: "bigger.bin" }), PayloadTooLargeError);
    assert.deepEqual((await c.listFiles()).files, []);
    const small = await c.uploadFile(new Uint8Array(1024).fill(122), { name: "small.bin" });
    assert.deepEqual(await c.downloadFile(small.file_id), new Uint8Array(1024).fill(122));
  });
});

describe("deliveries", () => {
  const received: { headers: IncomingHttpHeaders; body: { [k: string]: Json } }[] = [];
  const receiver = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(parts).toString()) as { [k: string]: Json } });
      res.writeHead(200, { "Content-Length": "0" }).end();
    });
  });
  const daemon = new Daemon([], ["--webhook-allow", "127.0.0.1"]);
  let c: Client;
  let hook: string;
  before(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    await daemon.start();
    c = daemon.client();
  });
  after(async () => {
    await daemon.remove();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it("delivers a job's transitions to its notify url, and lists them as delivered", async () => {
    const { job_id } = await c.submit({ tool: "noop", notify: { url: hook, events: ["transition"] } });
    assert.equal((await c.wait(job_id, { timeoutMs: 30_000 })).status, "completed");
    const deliveries = (await eventually(async (): Promise<Delivery[] | false> => {
      const ds = await c.deliveries(job_id);
      return ds.length >= 3 && ds.every((d) => d.status === "delivered") && ds;
    })) as Delivery[];
    for (const d of deliveries) {
      assert.equal(d.event, "transition");
      assert.equal(d.id, `dlv_${d.seq}_job`);
      assert.equal(d.url, hook);
      assert.equal(d.last_status_code, 200);
      assert.equal(d.last_error, "");
      assert.equal(d.next_attempt_at, null);
      assert.ok(d.delivered_at !== null && !Number.isNaN(Date.parse(d.delivered_at)));
      assert.ok(d.attempts >= 1);
    }
    assert.deepEqual(deliveries.map((d) => d.seq), [...deliveries.map((d) => d.seq)].sort((a, b) => a - b));
    const mine = received.filter((r) => r.headers["overseer-job"] === job_id).map((r) => [r.body.from, r.body.to]);
    assert.deepEqual(mine.slice(0, 3), [[null, "pending"], ["pending", "running"], ["running", "completed"]]);

    const { job_id: plain } = await c.submit({ tool: "noop" });
    assert.deepEqual(await c.deliveries(plain), []);
    await rejection(c.deliveries("job_01ARZ3NDEKTSV4RRFFQ69G5FAV"), NotFoundError);
  });
});
