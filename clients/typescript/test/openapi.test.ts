// The client covers docs/openapi.yaml: every (method, path) there has a
// client method, and that method sends exactly that route.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { Client, ROUTES, streamUrl, type Call } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
// build-test/test/ -> the repository's docs/
const openapiPath = process.env.OVERSEER_OPENAPI ?? resolve(here, "../../../../docs/openapi.yaml");
const httpMethods = new Set(["get", "put", "post", "delete", "patch", "head", "options"]);

function openapiRoutes(): Set<string> {
  const spec = parse(readFileSync(openapiPath, "utf8")) as { paths: Record<string, Record<string, unknown>> };
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of Object.keys(item)) if (httpMethods.has(method)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

class Sent extends Error {
  constructor(readonly call: Call) {
    super("sent");
  }
}

/** A client whose requests are recorded, never sent. */
class RecordingClient extends Client {
  protected override request(call: Call): Promise<Response> {
    return Promise.reject(new Sent(call));
  }
}

/** A value for each parameter a method needs: an id, a spec, or an upload. */
const sampleArgs: Record<string, unknown[]> = {
  submit: [{ tool: "noop" }],
  uploadFile: [new Uint8Array([1, 2, 3]), { name: "sample.bin" }],
  submitBatch: [{ jobs: [{ tool: "noop" }] }],
};

describe("openapi.yaml coverage", () => {
  it("maps every route of openapi.yaml to a client method, and claims no other", () => {
    const routes = openapiRoutes();
    assert.ok(routes.size >= 16, `${openapiPath} lists too few routes to be the API`);
    assert.deepEqual([...Object.keys(ROUTES)].sort(), [...routes].sort());
    for (const name of new Set(Object.values(ROUTES))) {
      assert.equal(typeof (Client.prototype as unknown as Record<string, unknown>)[name], "function", `Client has no ${name}`);
    }
  });

  it("each method sends the route it is listed for", async () => {
    const client = new RecordingClient("http://127.0.0.1:9");
    for (const name of new Set(Object.values(ROUTES))) {
      if (name === "watch") continue;
      const method = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!;
      const args = sampleArgs[name] ?? (method.length > 0 ? ["job_01M880PHE1F1GN54T6TES72772"] : []);
      await assert.rejects(method.apply(client, args), (e) => {
        assert.ok(e instanceof Sent, `${name}: ${String(e)}`);
        const listed = Object.entries(ROUTES).filter(([, n]) => n === name).map(([r]) => r);
        assert.ok(listed.includes(`${e.call.method} ${e.call.route}`), `${name} sent ${e.call.method} ${e.call.route}`);
        return true;
      });
    }
  });

  it("run() and the long poll send their routes with a wait; submit() says wait=0", async () => {
    const client = new RecordingClient("http://127.0.0.1:9");
    const cases: [string, Promise<unknown>, string, string][] = [
      ["submit", client.submit({ tool: "noop" }), "POST /v1/jobs", "0"],
      ["run", client.run({ tool: "noop" }, { waitMs: 2_500 }), "POST /v1/jobs", "2500ms"],
      ["run", client.run({ tool: "noop" }), "POST /v1/jobs", "30000ms"],
      ["get", client.get("job_01M880PHE1F1GN54T6TES72772", { waitMs: 250 }), "GET /v1/jobs/{id}", "250ms"],
    ];
    for (const [name, promise, route, wait] of cases) {
      await assert.rejects(promise, (e) => {
        assert.ok(e instanceof Sent, `${name}: ${String(e)}`);
        assert.equal(`${e.call.method} ${e.call.route}`, route, name);
        assert.ok(route in ROUTES, name);
        assert.deepEqual(e.call.query, [["wait", wait]], name);
        return true;
      });
    }
  });

  it("watch opens the stream route", () => {
    const [route] = Object.entries(ROUTES).filter(([, n]) => n === "watch").map(([r]) => r);
    assert.equal(route, "GET /v1/stream");
    assert.equal(streamUrl("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/v1/stream");
    assert.equal(streamUrl("https://example.org/overseer/"), "wss://example.org/overseer/v1/stream");
  });
});
