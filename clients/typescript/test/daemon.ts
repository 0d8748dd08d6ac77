/**
 * A real overseerd on 127.0.0.1 for the tests, from $OVERSEERD. The first
 * start asks for port 0 and reads the port from the "listening" line;
 * `restartAfterKill()` reuses the port and data directory. Every daemon
 * started is stopped by PID: by the test's `after` hook, and by SIGKILL when
 * the test process exits however it exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { Client, type ClientOptions, type WebSocketLike } from "../src/index.js";

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) if (p.pid !== undefined && p.exitCode === null) process.kill(p.pid, "SIGKILL");
});

/** Node before 22 has no global WebSocket: the tests use the ws package, with the token in a header. */
export const nodeWebSocket = (url: string, token: string | undefined): WebSocketLike =>
  new WebSocket(url, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } }) as unknown as WebSocketLike;

export class Daemon {
  readonly dataDir = mkdtempSync(join(tmpdir(), "overseer-ts-client-test-"));
  port = 0;
  private proc: ChildProcess | undefined;

  /** `args`: more flags, after the defaults. */
  constructor(private readonly tokens: string[] = [], private readonly args: string[] = []) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  client(options: ClientOptions = {}): Client {
    return new Client(this.url, { webSocket: nodeWebSocket, ...options });
  }

  async start(): Promise<this> {
    const binary = process.env.OVERSEERD;
    if (!binary) throw new Error("set OVERSEERD to the path of an overseerd binary");
    const args = ["--data-dir", this.dataDir, "--listen", `127.0.0.1:${this.port}`, "--max-concurrent", "4"];
    for (const t of this.tokens) args.push("--token", t);
    args.push(...this.args);
    const proc = spawn(binary, args, { stdio: ["ignore", "pipe", "ignore"] });
    this.proc = proc;
    running.add(proc);
    const lines = createInterface({ input: proc.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("overseerd did not report a listening port within 20 s")), 20_000);
      lines.on("line", (line) => {
        const m = /overseerd listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`overseerd exited with ${code} before listening`));
      });
    });
    this.port = port;
    return this;
  }

  private async end(signal: NodeJS.Signals): Promise<number | null> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc === undefined || proc.pid === undefined) return null;
    const exited = proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, signal);
    // A SIGTERM drains (running jobs get up to --drain-timeout); a second one
    // after a moment stops at once.
    const again = signal === "SIGTERM"
      ? setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, "SIGTERM"); }, 2_000)
      : undefined;
    await exited;
    clearTimeout(again);
    running.delete(proc);
    return proc.exitCode;
  }

  /** One SIGTERM, which starts a drain (running jobs get --drain-timeout); resolves once the daemon has exited. */
  drain(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    process.kill(proc.pid, "SIGTERM");
    return exited;
  }

  /** SIGTERM; resolves to the exit status. */
  stop(): Promise<number | null> {
    return this.end("SIGTERM");
  }

  /** SIGKILL (a crash, as far as the store knows), then a start on the same port and data directory. */
  async restartAfterKill(): Promise<void> {
    await this.end("SIGKILL");
    await this.start();
  }

  async remove(): Promise<void> {
    await this.end("SIGKILL");
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Polls until `predicate` is truthy, or rejects at the deadline. */
export async function eventually<T>(predicate: () => Promise<T> | T, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
