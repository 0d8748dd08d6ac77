// The real overseerd for the browser tests: started on 127.0.0.1 with a data
// dir of the test's, its port read from the "listening" line, stopped by
// its PID (SIGTERM, then SIGKILL after a deadline), never by name.

import {spawn} from "node:child_process";
import {once} from "node:events";

export class Daemon {
  /** binary: build/overseerd; port 0 picks a free one. */
  constructor(binary, dataDir, {port = 0, args = []} = {}) {
    this.binary = binary;
    this.dataDir = dataDir;
    this.port = port;
    this.args = args;
    this.proc = null;
    this.output = "";
  }

  async start() {
    const proc = spawn(this.binary, ["--data-dir", this.dataDir, "--listen", `127.0.0.1:${this.port}`, ...this.args],
      {stdio: ["ignore", "pipe", "pipe"]});
    this.proc = proc;
    running.add(proc);
    proc.on("exit", () => running.delete(proc));
    const prefix = "overseerd listening on http://127.0.0.1:";
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`overseerd did not start within 30 s:\n${this.output}`)), 30_000);
      const read = (chunk) => {
        this.output += chunk;
        const at = this.output.indexOf(prefix);
        if (at >= 0 && this.output.indexOf("\n", at) > 0) {
          clearTimeout(timer);
          resolve(Number.parseInt(this.output.slice(at + prefix.length), 10));
        }
      };
      proc.stdout.setEncoding("utf8").on("data", read);
      proc.stderr.setEncoding("utf8").on("data", (c) => { this.output += c; });
      proc.on("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`overseerd exited (${code ?? signal}) before listening:\n${this.output}`));
      });
    });
    this.port = port;  // a restart reuses it
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** kill -9: no shutdown, the store as a crash leaves it. */
  async kill9() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, "exit");
    process.kill(proc.pid, "SIGKILL");
    await exited;
  }

  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, "exit");
    process.kill(proc.pid, "SIGTERM");
    // A SIGTERM drains (running jobs get up to --drain-timeout); a second one
    // after a moment stops at once, and they resume at the next start.
    const again = setTimeout(() => process.kill(proc.pid, "SIGTERM"), 2_000);
    const timer = setTimeout(() => process.kill(proc.pid, "SIGKILL"), 20_000);
    await exited;
    clearTimeout(again);
    clearTimeout(timer);
  }

  /** A REST call: {status, body}. */
  async api(method, path, {body, token} = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(this.url + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    const text = await res.text();
    return {status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null};
  }
}

// Whatever happens to the test process, no daemon outlives it.
const running = new Set();
process.on("exit", () => {
  for (const proc of running) {
    try {
      process.kill(proc.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});
