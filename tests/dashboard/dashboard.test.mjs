// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) against a real overseerd on 127.0.0.1.
//
//   node --test dashboard.test.mjs            (OVERSEERD=build/overseerd by default)
//
// Every wait is on a condition with a deadline, never a fixed sleep.
// Screenshots of each page go to build/dashboard-artifacts/ (DASHBOARD_ARTIFACTS).
// DASHBOARD_WEB_DIR=web serves the pages' scripts and style sheet from that
// directory instead of the daemon's embedded copy: an edit under web/ is
// tested without rebuilding overseerd (index.html still comes from the daemon).

import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {createHash} from "node:crypto";
import {tmpdir} from "node:os";
import {join, resolve, dirname} from "node:path";
import {fileURLToPath} from "node:url";
import {chromium} from "playwright-core";
import {Daemon} from "./daemon.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const binary = resolve(process.env.OVERSEERD ?? join(root, "build/overseerd"));
const artifacts = resolve(process.env.DASHBOARD_ARTIFACTS ?? join(root, "build/dashboard-artifacts"));
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const webDir = process.env.DASHBOARD_WEB_DIR ? resolve(process.env.DASHBOARD_WEB_DIR) : null;
const wait = {timeout: 20_000};

let browser;
let daemon;
let scratch;
const problems = [];  // console errors, page errors, CSP violations: none is allowed
// While the restart test cuts reads and kills the daemon, requests fail as a
// crash makes them fail (reset, closed without an answer): expected there only.
let crashing = false;
let refusingListings = false;  // a test answers listings 503 on purpose

before(async () => {
  mkdirSync(artifacts, {recursive: true});
  scratch = mkdtempSync(join(tmpdir(), "overseer-dashboard-"));
  daemon = await new Daemon(binary, join(scratch, "data")).start();
  browser = await chromium.launch({executablePath: chromiumPath, args: ["--no-sandbox"]});
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  if (scratch) rmSync(scratch, {recursive: true, force: true});
});

/** A browser context; with DASHBOARD_WEB_DIR its assets come from that directory. */
async function newContext(options) {
  const context = await browser.newContext(options);
  if (webDir) {
    const types = {js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml"};
    await context.route(/\/assets\/[^/]+\/[^/?]+$/, (route) => {
      const name = new URL(route.request().url()).pathname.split("/").pop();
      let body;
      try {
        body = readFileSync(join(webDir, name));
      } catch {
        return route.continue();
      }
      return route.fulfill({status: 200, contentType: types[name.split(".").pop()], body});
    });
  }
  return context;
}

async function open(hash = "", viewport = {width: 1280, height: 900}, before = async () => {}, base = daemon.url) {
  const context = await newContext({viewport});
  const page = await context.newPage();
  page.on("console", (m) => {
    // Expected: a refused connection while the daemon is down and the
    // requests a crash cuts (restart test), and the 400 of the refused
    // submit (form test). Anything else, a missing asset or a policy
    // violation included, is a defect.
    if (m.type() !== "error" || /ERR_CONNECTION_REFUSED|WebSocket connection|status of 400/.test(m.text())) return;
    if (crashing && /ERR_(CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE)/.test(m.text())) return;
    if (refusingListings && /status of 503/.test(m.text())) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await before(page);
  await page.goto(`${base}/${hash}`);
  return page;
}

async function shot(page, name) {
  await page.screenshot({path: join(artifacts, `${name}.png`), fullPage: true});
}

async function submit(spec) {
  const res = await daemon.api("POST", "/v1/jobs", {body: spec});
  assert.equal(res.status, 202, JSON.stringify(res.body));
  return res.body.job_id;
}

async function until(what, check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const text = (page, selector) => page.locator(selector).textContent();

test("the overview loads with its counts and goes live", async () => {
  const page = await open();
  await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
  await page.locator('[aria-label="Jobs by status"] li').first().waitFor(wait);
  assert.equal(await page.locator('[aria-label="Jobs by status"] li').count(), 7);
  assert.match(await text(page, '[aria-label="Jobs by tool"]'), /sleep/);
  // The first Tab reaches "Skip to content", which moves the focus, not the route.
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "main");
  assert.equal(await page.evaluate(() => location.hash), "");
  await shot(page, "overview");
  await page.context().close();
});

test("the overview reads one round of counts at a time, however many transitions arrive meanwhile", async () => {
  // Each count answered only after 1.5 s, as on a store of millions; jobs
  // end every 100 ms meanwhile. A new round per second on top of the
  // unanswered ones would pile up; one round in flight, then one more, is
  // what the page may ask.
  let inFlight = 0;
  let most = 0;
  let counts = 0;
  const slowCounts = (p) => p.route(/\/v1\/jobs\?.*limit=1(&|$)/, async (route) => {
    ++counts;
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 1500));
    try {
      await route.continue();
    } finally {
      --inFlight;
    }
  });
  const page = await open("", undefined, slowCounts);
  await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
  await page.locator('[aria-label="Jobs by status"] li').first().waitFor(wait);
  const round = counts;  // the first read: one count per status and tool, four for the last hour
  assert.ok(round >= 11, `the first round had ${round} counts`);
  const stopAt = Date.now() + 5000;
  while (Date.now() < stopAt) {
    await submit({tool: "noop"});
    await new Promise((r) => setTimeout(r, 100));
  }
  await until("the rounds asked meanwhile to be answered", async () => inFlight === 0 && counts > round, 30_000);
  assert.ok(most <= round, `${most} counts in flight at once, more than the ${round} of one round`);
  // 5 s of transitions with 1.5 s answers: the first round, then at most
  // one per answered round (about 4), never one per second on top of them.
  assert.ok(counts <= 6 * round, `${counts} counts for ${round} per round`);
  await page.context().close();
});

test("a count the daemon refuses as busy with listings is asked again after Retry-After", async () => {
  // Past 64 listings waiting the daemon answers 503 with listings_waiting
  // (docs/api.md): each count is refused twice here, as by a daemon that
  // many tabs keep busy, and the third asking goes through.
  const refusals = new Map();  // url → refusals so far
  let asked = 0;
  const busy = (p) => p.route(/\/v1\/jobs\?.*limit=1(&|$)/, async (route) => {
    ++asked;
    const url = route.request().url();
    const n = refusals.get(url) ?? 0;
    if (n >= 2) return route.continue();
    refusals.set(url, n + 1);
    await route.fulfill({
      status: 503,
      headers: {"Content-Type": "application/problem+json", "Retry-After": "1"},
      body: JSON.stringify({type: "https://overseer.dev/problems/unavailable", title: "Service Unavailable",
                            status: 503, detail: "the server is busy with 64 listings", listings_waiting: 64}),
    });
  });
  refusingListings = true;
  try {
    const page = await open("", undefined, busy);
    await page.locator('[aria-label="Jobs by status"] li').first().waitFor(wait);
    assert.equal(await page.locator('[aria-label="Jobs by status"] li').count(), 7);
    assert.equal(await page.locator("main .error").count(), 0);
    const first = [...refusals.values()];
    assert.ok(first.length >= 11, `${first.length} counts`);
    assert.ok(first.every((n) => n === 2), `refusals per count: ${first}`);
    assert.ok(asked >= 3 * first.length);
    await page.context().close();
  } finally {
    refusingListings = false;
  }
});

test("a sleep job submitted from the form shows its progress advance and completes without a reload", async () => {
  const page = await open("#/submit/sleep");
  await page.locator("#submit-form").waitFor(wait);
  await shot(page, "submit");
  await page.evaluate(() => { window.notReloaded = true; });
  // The server's problem document lands beside the field it names.
  await page.getByLabel("seconds").fill("-1");
  await page.getByRole("button", {name: "Submit job"}).click();
  await page.locator('#field-params-seconds[aria-invalid="true"]').waitFor(wait);
  assert.match(await text(page, "#field-params-seconds-error"), /-1/);
  await page.getByLabel("seconds").fill("3");
  await page.getByLabel("steps").fill("6");
  await page.getByLabel("Name").fill("from the form");
  await page.getByLabel("Labels").fill("suite=e2e");
  await page.getByRole("button", {name: "Submit job"}).click();
  await page.waitForURL(/#\/job\/job_/, wait);
  await page.locator("#job-status", {hasText: "running"}).waitFor(wait);
  // Some value strictly between 0 and 100: the bar moved while running.
  const seen = await page.waitForFunction(() => {
    const v = document.querySelector("#job-progress progress")?.value ?? 0;
    return v > 0 && v < 100 && v;
  }, null, wait);
  assert.ok((await seen.jsonValue()) > 0);
  await page.locator("#job-step", {hasText: /step \d+\/6/}).waitFor(wait);
  await shot(page, "job-running");
  await page.locator("#job-status", {hasText: "completed"}).waitFor(wait);
  assert.equal(await page.locator("#job-progress progress").evaluate((p) => p.value), 100);
  await page.locator("#download").waitFor(wait);
  assert.match(await text(page, "#result"), /slept_seconds/);
  await page.locator("#timeline li", {hasText: "completed"}).waitFor(wait);
  assert.equal(await page.evaluate(() => window.notReloaded), true);
  await shot(page, "job-completed");
  await page.context().close();
});

test("a running job is cancelled from its page", async () => {
  const id = await submit({tool: "sleep", params: {seconds: 60, steps: 60}, name: "to cancel"});
  const page = await open(`#/job/${id}`);
  await page.locator("#job-status", {hasText: "running"}).waitFor(wait);
  const reason = page.getByRole("textbox", {name: "Reason for a cancel or retry (optional)"});
  // A reason the daemon refuses is shown with its field; the job runs on.
  await reason.fill("é".repeat(260));  // 520 bytes
  await page.getByRole("button", {name: "Cancel job"}).click();
  const refused = page.getByRole("alert").filter({hasText: "at most 500 bytes, found 520"});
  await refused.waitFor(wait);
  assert.equal((await daemon.api("GET", `/v1/jobs/${id}`)).body.status, "running");
  // The job's progress events (one a second) redraw its state; the refusal
  // stays on screen until the operator acts again.
  const before = await text(page, "#job-step");
  await page.waitForFunction((b) => document.querySelector("#job-step").textContent !== b, before, wait);
  assert.equal(await refused.isVisible(), true);
  await reason.fill("wrong reference genome");
  await page.getByRole("button", {name: "Cancel job"}).click();
  await page.locator("#job-status", {hasText: "cancelled"}).waitFor(wait);
  assert.equal((await daemon.api("GET", `/v1/jobs/${id}`)).body.status, "cancelled");
  assert.equal(await page.getByRole("button", {name: "Retry job"}).isEnabled(), true);
  await page.locator("#timeline li", {hasText: "cancelled by client 127.0.0.1: wrong reference genome"}).waitFor(wait);
  assert.equal(await reason.inputValue(), "");  // used once
  await shot(page, "job-cancelled");
  // A retry starts the budget afresh: attempt 2, the first one counted.
  await page.getByRole("button", {name: "Retry job"}).click();
  await page.locator("#job-attempt", {hasText: "attempt 2 (1 of 1 allowed)"}).waitFor(wait);
  await daemon.api("POST", `/v1/jobs/${id}/cancel`);
  await page.context().close();
});

test("the jobs table filters by status, label and name, and arrow keys move between rows", async () => {
  const ids = [];
  const names = ["annotate Sample 17", "annotate sample 18", "convert 19", "annotate sample 20", "x"];
  for (const [i, team] of ["a", "a", "a", "b", "b"].entries())
    ids.push(await submit({tool: "noop", name: names[i], labels: {team}}));
  ids.push(await submit({tool: "sleep", params: {seconds: 60, steps: 1}, labels: {team: "a"}}));
  await until("the noop jobs to complete", async () => {
    const res = await daemon.api("GET", "/v1/jobs?label.team=a&status=completed");
    return res.body.total_count === 3;
  });
  const page = await open("#/jobs");
  await page.locator("#jobs-table tr[data-job]").first().waitFor(wait);
  await page.getByLabel("Status").selectOption("completed");
  await page.getByLabel("Labels").fill("team=a");
  await page.getByRole("button", {name: "Apply"}).click();
  await page.waitForURL(/status=completed/, wait);
  await page.locator("#jobs-summary", {hasText: "3 jobs match"}).waitFor(wait);
  const rows = page.locator("#jobs-table tr[data-job]");
  await until("three filtered rows", async () => (await rows.count()) === 3);
  const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.job));
  assert.deepEqual(new Set(shown), new Set(ids.slice(0, 3)));
  for (const status of await page.locator("#jobs-table .status").allTextContents()) assert.match(status, /completed/);
  // noop reports no progress (its stored percent is 0): a completed job's bar is full.
  assert.deepEqual(await page.locator("#jobs-table progress").evaluateAll((ps) => ps.map((p) => p.value)), [100, 100, 100]);
  assert.deepEqual(await page.locator("#jobs-table .percent").allTextContents(), ["100 %", "100 %", "100 %"]);
  await rows.first().locator("a").focus();
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.evaluate(() => document.activeElement.closest("tr").dataset.index), "1");
  // A part of the name, in another case: two of the three.
  await page.getByLabel("Name").fill("SAMPLE");
  await page.getByRole("button", {name: "Apply"}).click();
  await page.waitForURL(/name=SAMPLE/, wait);
  await page.locator("#jobs-summary", {hasText: "2 jobs match"}).waitFor(wait);
  await until("two rows by name", async () => (await rows.count()) === 2);
  const named = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.job));
  assert.deepEqual(new Set(named), new Set(ids.slice(0, 2)));
  await shot(page, "jobs-filtered");
  await daemon.api("POST", `/v1/jobs/${ids[5]}/cancel`);
  await page.context().close();
});

test("with a filter, the live count names only the new jobs that match it", async () => {
  const first = await submit({tool: "noop", labels: {team: "blue"}});
  const all = await open("#/jobs");
  const blue = await open("#/jobs?label=team%3Dblue");
  await blue.locator(`#jobs-table tr[data-job="${first}"]`).waitFor(wait);
  await all.locator("#jobs-table tr[data-index='0']").waitFor(wait);
  // Three that do not match, then two that do.
  for (const team of ["red", "red", "red", "blue", "blue"]) await submit({tool: "noop", labels: {team}});
  // The unfiltered page counts every creation the stream announces ...
  await all.locator("#jobs-fresh", {hasText: /^5 new jobs/}).waitFor(wait);
  // ... the filtered one only those the server says match (the job already
  // shown, created in the newest millisecond loaded, is not counted again).
  await blue.locator("#jobs-fresh", {hasText: /^2 new jobs/}).waitFor(wait);
  assert.match(await blue.locator("#jobs-fresh").textContent(), /^2 new jobs/);
  await blue.locator("#jobs-fresh").click();
  await blue.locator("#jobs-summary", {hasText: "3 jobs match"}).waitFor(wait);
  assert.equal(await blue.locator("#jobs-fresh").isHidden(), true);
  await all.context().close();
  await blue.context().close();
});

test("with a status filter, the live count names the jobs of any age that enter the status and match", async () => {
  // Created while the tool is paused, so they are older than the pages that
  // watch them start: a count of new jobs would name none of them.
  assert.equal((await daemon.api("POST", "/v1/tools/sleep/pause")).status, 200);
  const spec = (team) => ({tool: "sleep", params: {seconds: 60, steps: 1}, labels: {team}});
  const [a, b, c] = [await submit(spec("green")), await submit(spec("green")), await submit(spec("gray"))];
  const running = await open("#/jobs?status=running");
  const green = await open("#/jobs?status=running&label=team%3Dgreen");
  for (const page of [running, green]) await page.locator("#jobs-summary", {hasText: /match/}).waitFor(wait);
  const shownBefore = Number((await text(running, "#jobs-summary")).split(" ")[0]);
  const label = async (page) => (await page.locator("#jobs-fresh").isHidden()) ? "" : await text(page, "#jobs-fresh");
  const status = async (id) => (await daemon.api("GET", `/v1/jobs/${id}`)).body.status;
  // As many as the daemon runs at once (one per core): a and b first, then c.
  const expectRunning = async (page, what, ids) => until(what, async () => {
    const n = (await Promise.all(ids.map(status))).filter((s) => s === "running").length;
    return n > 0 && await label(page) === `${n} more ${n === 1 ? "job" : "jobs"} running: show`;
  });
  assert.equal((await daemon.api("POST", "/v1/tools/sleep/resume")).status, 200);
  await until("a to run", async () => (await status(a)) === "running");
  await expectRunning(running, "the status page to count the jobs that started", [a, b, c]);
  // The labelled page reads each job that started and keeps the green ones.
  await expectRunning(green, "the labelled page to count the green jobs that started", [a, b]);
  // A job that leaves the status is no longer counted; the next one starts in its slot.
  assert.equal((await daemon.api("POST", `/v1/jobs/${a}/cancel`)).status, 200);
  await until("b to run", async () => (await status(b)) === "running");
  await expectRunning(green, "the labelled page to count b alone", [a, b]);
  await expectRunning(running, "the status page to count b and c", [a, b, c]);
  await green.locator("#jobs-fresh").click();
  await green.locator("#jobs-summary", {hasText: "1 job matches"}).waitFor(wait);
  assert.deepEqual(await green.locator("#jobs-table tr[data-job]").evaluateAll((trs) => trs.map((tr) => tr.dataset.job)), [b]);
  assert.equal(await green.locator("#jobs-fresh").isHidden(), true);
  await running.locator("#jobs-fresh").click();
  const runningNow = (await Promise.all([b, c].map(status))).filter((s) => s === "running").length;
  await running.locator("#jobs-summary", {hasText: `${shownBefore + runningNow} jobs match`}).waitFor(wait);
  for (const id of [b, c]) await daemon.api("POST", `/v1/jobs/${id}/cancel`);
  await running.context().close();
  await green.context().close();
});

test("a burst of 10,000 new jobs: the table counts them live, then holds only the rows on screen", async () => {
  const page = await open("#/jobs?label=bulk%3Dyes");
  await page.locator("#jobs-summary", {hasText: "0 jobs match"}).waitFor(wait);
  // One batch: 10,000 creations and some 20,000 more transitions within
  // seconds, every one a stream event the open page must take.
  const jobs = Array.from({length: 10_000}, (_, i) => ({tool: "noop", name: `bulk ${i}`, labels: {bulk: "yes"}}));
  const res = await daemon.api("POST", "/v1/batches", {body: {name: "bulk", jobs}});
  assert.equal(res.status, 202);
  const started = Date.now();
  let slowest = 0;
  await until("the page to count 10,000 new jobs", async () => {
    const asked = Date.now();
    const label = await page.locator("#jobs-fresh").textContent();
    slowest = Math.max(slowest, Date.now() - asked);
    return /^10000 new jobs/.test(label ?? "");
  }, 120_000);
  // The page answered while it took the burst.
  assert.ok(slowest < 5000, `the page took ${slowest} ms to answer during the burst`);
  console.log(`# 10,000 creations seen in ${Date.now() - started} ms; slowest answer ${slowest} ms`);
  await page.locator("#jobs-fresh").click();
  await page.locator("#jobs-summary", {hasText: "10000 jobs match"}).waitFor(wait);
  const rows = page.locator("#jobs-table tr[data-index]");
  await rows.first().waitFor(wait);
  assert.ok((await rows.count()) < 100, `${await rows.count()} rows in the DOM`);
  // Newest first: the last row is the batch's first job.
  await page.locator(".viewport").evaluate((v) => { v.scrollTop = v.scrollHeight; });
  await page.locator("#jobs-table tr[data-index='9999']", {hasText: "bulk 0"}).waitFor(wait);
  assert.ok((await rows.count()) < 100);
  await shot(page, "jobs-10000");
  const batch = res.body.batch_id;
  await page.goto(`${daemon.url}/#/batch/${batch}`);
  await page.locator("#batch-table tbody tr").first().waitFor(wait);
  await until("the bulk batch to complete", async () =>
    (await daemon.api("GET", `/v1/batches/${batch}`)).body.batch_status === "completed", 120_000);
  await page.locator(".card", {hasText: "State"}).locator(".status", {hasText: "completed"}).first().waitFor(wait);
  await page.screenshot({path: join(artifacts, "batch.png")});  // 10,000 rows: the screen only
  await page.context().close();
});

test("a batch page follows its jobs live and cancels the batch", async () => {
  const res = await daemon.api("POST", "/v1/batches", {body: {name: "live batch", parallel_limit: 1, jobs: [
    {tool: "sleep", params: {seconds: 30, steps: 30}}, {tool: "sleep", params: {seconds: 30, steps: 30}}]}});
  const page = await open(`#/batch/${res.body.batch_id}`);
  await page.locator("#batch-table tr", {hasText: "running"}).waitFor(wait);
  await page.waitForFunction(() => [...document.querySelectorAll("#batch-table progress")].some((p) => p.value > 0), null, wait);
  const reason = page.getByRole("textbox", {name: "Reason for cancelling the batch (optional)"});
  await reason.fill("wrong samples\u0007");  // a control character: refused, nothing cancelled
  await page.getByRole("button", {name: "Cancel batch"}).click();
  await page.getByRole("alert").filter({hasText: "one line of text"}).waitFor(wait);
  assert.notEqual((await daemon.api("GET", `/v1/batches/${res.body.batch_id}`)).body.batch_status, "cancelled");
  await reason.fill("wrong samples");
  await shot(page, "batch-page");
  await page.getByRole("button", {name: "Cancel batch"}).click();
  await until("both jobs cancelled on the page", async () =>
    (await page.locator("#batch-table .status", {hasText: "cancelled"}).count()) === 2);
  // Nothing left to cancel: the controls go once the batch is read again
  // (its status is the server's to compute; the read waits up to 0.5 s
  // behind the transitions that ask for it).
  await reason.waitFor({state: "hidden", ...wait});
  assert.equal(await page.locator("#cancel-batch").isDisabled(), true);
  for (const job of res.body.job_ids) {
    const history = (await daemon.api("GET", `/v1/jobs/${job}/history`)).body.transitions;
    assert.equal(history.at(-1).reason, "batch cancelled by client 127.0.0.1: wrong samples");
  }
  await page.context().close();
});

test("the tools page shows each schema, limit and state", async () => {
  const page = await open("#/tools");
  await page.locator('[data-tool="sleep"]').waitFor(wait);
  assert.match(await text(page, '[data-tool="sleep"]'), /seconds/);
  assert.match(await text(page, '[data-tool="sleep"]'), /accepting work/);
  await shot(page, "tools");
  await page.context().close();
});

test("the tools page pauses and resumes a tool", async () => {
  const page = await open("#/tools");
  const card = page.locator('[data-tool="fasta_stats"]');
  await card.waitFor(wait);
  await card.getByRole("button", {name: "Pause tool"}).click();
  await until("the card shows the pause", async () => /paused \(paused by client 127\.0\.0\.1\)/.test(await text(page, '[data-tool="fasta_stats"]')));
  let health = await (await fetch(`${daemon.url}/v1/health`)).json();
  assert.equal(health.components.tools.fasta_stats.status, "paused");
  const reason = card.getByRole("textbox", {name: "Reason for pausing fasta_stats (optional)"});
  // While paused, the same box takes the resume's reason, which goes to the
  // daemon's audit line.
  await card.getByRole("textbox", {name: "Reason for resuming fasta_stats (optional)"}).fill("index rebuilt");
  await card.getByRole("button", {name: "Resume tool"}).click();
  await until("the card accepts work again", async () => /accepting work/.test(await text(page, '[data-tool="fasta_stats"]')));
  await until("the audit line of the resume", async () =>
    /tool resumed by client 127\.0\.0\.1.*reason="index rebuilt"/.test(daemon.output));
  assert.equal(await reason.inputValue(), "");
  health = await (await fetch(`${daemon.url}/v1/health`)).json();
  assert.equal(health.components.tools.fasta_stats.status, "healthy");
  // A reason the daemon refuses is shown with its field, and pauses nothing.
  await reason.fill("x".repeat(200) + "é".repeat(160));  // 360 characters, 520 bytes
  await card.getByRole("button", {name: "Pause tool"}).click();
  await card.getByRole("alert").filter({hasText: "at most 500 bytes, found 520"}).waitFor(wait);
  assert.match(await text(page, '[data-tool="fasta_stats"]'), /accepting work/);
  // The operator's reason goes with the pause, after who paused.
  await reason.fill("reference data is being rebuilt");
  await card.getByRole("button", {name: "Pause tool"}).click();
  await until("the card shows the reason", async () =>
    /paused \(paused by client 127\.0\.0\.1: reference data is being rebuilt\)/.test(await text(page, '[data-tool="fasta_stats"]')));
  const listed = (await (await fetch(`${daemon.url}/v1/tools`)).json()).tools.find((t) => t.name === "fasta_stats");
  assert.equal(listed.paused_reason, "paused by client 127.0.0.1: reference data is being rebuilt");
  await card.getByRole("button", {name: "Resume tool"}).click();
  await until("the card accepts work again", async () => /accepting work/.test(await text(page, '[data-tool="fasta_stats"]')));
  await page.context().close();
});

test("the tools page shows the stored pause of a tool no longer registered, and lifts it", async () => {
  // A daemon of its own: its tool is paused, then taken out of its tools file.
  const dir = join(scratch, "retired");
  mkdirSync(dir, {recursive: true});
  const toolsFile = join(dir, "tools.json");
  writeFileSync(toolsFile, JSON.stringify({tools: [{name: "retired", command: ["/bin/true"]}]}));
  const other = new Daemon(binary, join(dir, "data"), {args: ["--tools", toolsFile]});
  try {
    await other.start();
    const paused = await other.api("POST", "/v1/tools/retired/pause", {body: {reason: "replaced by v2"}});
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    await other.stop();
    other.args = [];
    await other.start();
    const page = await open("#/tools", undefined, undefined, other.url);
    const card = page.locator('[data-tool="retired"]');
    await card.waitFor(wait);
    assert.match(await card.textContent(), /no longer registered/);
    assert.match(await card.textContent(), /paused \(paused by client 127\.0\.0\.1: replaced by v2\)/);
    assert.equal(await page.locator('[data-tool="noop"]').count(), 1);  // the registered ones as before
    await shot(page, "tools-retired");
    await card.getByRole("textbox", {name: "Reason for lifting the pause of retired (optional)"}).fill("v2 is live");
    await card.getByRole("button", {name: "Lift the pause"}).click();
    await card.getByRole("status").filter({hasText: "Lifted"}).waitFor(wait);
    assert.equal(await card.getByRole("button").count(), 0);
    await until("the audit line of the lift", async () =>
      /tool resumed by client 127\.0\.0\.1.*reason="v2 is live"/.test(other.output));
    const health = (await other.api("GET", "/v1/health")).body;
    assert.equal(health.components.tools.retired, undefined);
    assert.equal(health.status, "healthy");
    await page.context().close();
  } finally {
    await other.stop();
  }
});

test("kill -9 and a restart while the page is open: it shows reconnecting, then catches up", async () => {
  crashing = true;
  // Long enough to be still running at the kill below, after the five pages
  // opened first, also on a loaded machine: a job that ended before the
  // kill has no "interrupted" transition to show.
  const id = await submit({tool: "sleep", params: {seconds: 20, steps: 20}, name: "survives a crash"});
  await until("the job to run", async () => (await daemon.api("GET", `/v1/jobs/${id}`)).body.status === "running");
  // The crash cuts the page's first read of the timeline, as a kill -9 in
  // the middle of it does: the page stays up, says so, and reads it again
  // once the stream is back.
  let cutting = true;
  const cut = (pattern, onRead = () => {}) => (p) => p.route(pattern, (route) => {
    onRead();
    return cutting ? route.abort("connectionreset") : route.continue();
  });
  let reads = 0;
  const page = await open(`#/job/${id}`, undefined, cut(/\/v1\/jobs\/[^/]+\/history/, () => ++reads));
  await page.locator("#read-note", {hasText: "Timeline and logs not read"}).waitFor(wait);
  await page.locator("#job-status", {hasText: "running"}).waitFor(wait);
  await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
  // Two overviews whose reads the crash cuts, one before the page could
  // draw (its list of tools), one after (its counts), and the jobs table's
  // first page of rows.
  const noTools = await open("", undefined, cut(/\/v1\/tools$/));
  await noTools.getByRole("alert").filter({hasText: "Network error"}).waitFor(wait);
  await noTools.getByText("The page loads again when the daemon is back.").waitFor(wait);
  const noCounts = await open("", undefined, cut(/\/v1\/jobs\?status=pending&limit=1$/));
  await noCounts.getByRole("alert").filter({hasText: "The counts are read again"}).waitFor(wait);
  const noRows = await open("#/jobs", undefined, cut(/\/v1\/jobs\?limit=\d+&offset=0$/));
  await noRows.getByRole("alert").filter({hasText: "Network error"}).waitFor(wait);
  // The batch and tools pages read everything before they draw: a cut read
  // leaves the error and the promise, then the page once the daemon is back.
  const batch = (await daemon.api("POST", "/v1/batches", {body: {name: "read across a crash",
    jobs: [{tool: "noop"}]}})).body.batch_id;
  const noBatch = await open(`#/batch/${batch}`, undefined, cut(/\/v1\/jobs\?batch_id=/));
  const noHealth = await open("#/tools", undefined, cut(/\/v1\/health$/));
  for (const away of [noBatch, noHealth]) {
    await away.getByRole("alert").filter({hasText: "Network error"}).waitFor(wait);
    await away.getByText("The page loads again when the daemon is back.").waitFor(wait);
  }
  // Every state the header and the job's own stream show from here on, and
  // whether the timeline held the interruption at that moment: "Live" must
  // wait for the replay (the daemon's caught_up), not come with the
  // resubscription.
  await page.evaluate(() => {
    window.shownStates = [];
    const timeline = document.getElementById("timeline");
    for (const [who, id] of [["header", "connection"], ["job", "link-state"]]) {
      const el = document.getElementById(id);
      new MutationObserver(() => window.shownStates.push(
        {who, state: el.textContent, interrupted: /interrupted/.test(timeline.textContent)}))
        .observe(el, {childList: true, characterData: true, subtree: true});
    }
  });
  cutting = false;
  const cutReads = reads;
  assert.equal((await daemon.api("GET", `/v1/jobs/${id}`)).body.status, "running", "the job still runs at the kill");
  await daemon.kill9();
  await page.locator("#connection", {hasText: "Reconnecting"}).waitFor(wait);
  await shot(page, "reconnecting");
  // A job submitted while the page is away is caught up on reconnect.
  await daemon.start();
  const after = await submit({tool: "noop", name: "submitted after the restart"});
  await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
  await page.locator("#timeline li", {hasText: "interrupted"}).waitFor(wait);
  await page.locator("#link-state", {hasText: /^live$/}).waitFor(wait);
  const shown = await page.evaluate(() => window.shownStates);
  const said = (who) => shown.filter((x) => x.who === who);
  const header = said("header").map((x) => x.state);
  const back = header.lastIndexOf("Reconnecting…");
  assert.ok(back >= 0, JSON.stringify(header));
  assert.deepEqual(header.slice(back + 1), ["Catching up…", "Live"], JSON.stringify(header));
  const job = said("job");
  const jobBack = job.findLastIndex((x) => x.state === "reconnecting…");
  assert.deepEqual(job.slice(jobBack + 1).map((x) => x.state), ["catching up…", "live"], JSON.stringify(job));
  assert.ok(job.at(-1).interrupted, "the job's stream said live before its replay had shown the interruption");
  // What happened before the page opened came from the second read.
  await page.locator("#timeline li", {hasText: "submitted"}).waitFor(wait);
  assert.equal(await text(page, "#read-note"), "");
  assert.ok(reads > cutReads, `the history was read ${reads} times, ${cutReads} of them cut`);
  for (const overview of [noTools, noCounts]) {
    await overview.locator('[aria-label="Jobs by status"] li', {hasText: "running"}).waitFor(wait);
    assert.equal(await overview.getByRole("alert").count(), 0);
    await overview.context().close();
  }
  await noRows.locator(`#jobs-table tr[data-job="${id}"]`).waitFor(wait);
  assert.equal(await noRows.getByRole("alert").count(), 0);
  await noRows.context().close();
  await noBatch.locator("#batch-table tbody tr").first().waitFor(wait);
  await noHealth.locator('[data-tool="sleep"]').waitFor(wait);
  for (const back of [noBatch, noHealth]) {
    assert.equal(await back.getByRole("alert").count(), 0);
    await back.context().close();
  }
  await page.locator("#job-status", {hasText: "completed"}).waitFor({timeout: 45_000});
  await page.locator('a[href="#/"]').first().click();
  await page.locator('[aria-label="Jobs by status"] li').first().waitFor(wait);
  await until("the overview to count the new job", async () => {
    const counts = await page.locator('[aria-label="Jobs by tool"] li', {hasText: "noop"}).textContent();
    const total = (await daemon.api("GET", "/v1/jobs?tool=noop&limit=1")).body.total_count;
    return counts.includes(String(total));
  });
  assert.ok(after);
  await page.context().close();
  crashing = false;
});

test("at phone width every page fits the screen", async () => {
  const id = (await daemon.api("GET", "/v1/jobs?status=completed&tool=sleep&limit=1")).body.jobs[0].job_id;
  for (const [hash, name] of [["", "overview"], ["#/jobs", "jobs"], [`#/job/${id}`, "job"], ["#/submit/sleep", "submit"]]) {
    const page = await open(hash, {width: 390, height: 844});
    await page.locator("main h1").waitFor(wait);
    await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name} is ${overflow} px wider than the phone`);
    await shot(page, `phone-${name}`);
    await page.context().close();
  }
});

test("with tokens: the page asks for one, refuses a wrong one and works with the right one", async () => {
  const secured = await new Daemon(binary, join(scratch, "secured"), {args: ["--token", "s3cret-token"]}).start();
  try {
    const context = await newContext({viewport: {width: 1280, height: 800}});
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${secured.url}/`);
    await page.getByLabel("Token").waitFor(wait);
    await page.getByLabel("Token").fill("wrong-token");
    await page.getByRole("button", {name: "Sign in"}).click();
    await page.getByRole("alert").filter({hasText: "refused"}).waitFor(wait);
    await shot(page, "token-refused");
    // The daemon refuses the stream too.
    const ws = await page.evaluate((url) => new Promise((done) => {
      const s = new WebSocket(url);
      s.onopen = () => done("open");
      s.onerror = () => done("refused");
    }), `ws://127.0.0.1:${secured.port}/v1/stream?all=1&access_token=wrong-token`);
    assert.equal(ws, "refused");
    await page.getByLabel("Token").fill("s3cret-token");
    await page.getByRole("button", {name: "Sign in"}).click();
    await page.locator('[aria-label="Jobs by status"] li').first().waitFor(wait);
    await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("overseer.token")), "s3cret-token");
    await context.close();
  } finally {
    await secured.stop();
  }
});

/** A daemon of a test's own, in a directory of its own under the scratch one. */
function ownDaemon(name, args = []) {
  const dir = join(scratch, name);
  mkdirSync(dir, {recursive: true});
  return {dir, daemon: new Daemon(binary, join(dir, "data"), {args})};
}

async function waitForStatus(d, id, status) {
  await until(`${id} to be ${status}`, async () => (await d.api("GET", `/v1/jobs/${id}`)).body.status === status);
}

test("a job page shows every log line, however alike: read when it opens, and followed live", async () => {
  // A tool that prints the same line 300 times within a few milliseconds,
  // once the file it is given exists.
  const {dir, daemon: other} = ownDaemon("repeat");
  const toolsFile = join(dir, "tools.json");
  writeFileSync(toolsFile, JSON.stringify({tools: [{name: "repeat", command: ["/bin/sh", "-c",
    'while [ ! -e "$0" ]; do sleep 0.05; done; i=0; while [ $i -lt "$1" ]; do echo same-line; i=$((i+1)); done',
    "{params.go}", "{params.n}"], params: {go: {type: "string"}, n: {type: "integer", default: 300}}}]}));
  other.args = ["--tools", toolsFile];
  const lines = async (page) => page.locator("#logs li").count();
  const total = async (id) => (await other.api("GET", `/v1/jobs/${id}/logs?limit=1`)).body.total;
  try {
    await other.start();
    const submitted = async (go) => (await other.api("POST", "/v1/jobs", {body: {tool: "repeat", params: {go}}})).body.job_id;
    // Read: the job ended before its page opened.
    const ready = join(dir, "ready");
    writeFileSync(ready, "");
    const done = await submitted(ready);
    await waitForStatus(other, done, "completed");
    const read = await total(done);
    assert.ok(read >= 300, `${read} lines`);
    const page = await open(`#/job/${done}`, undefined, undefined, other.url);
    await page.locator("#logs li", {hasText: "same-line"}).first().waitFor(wait);
    await until(`all ${read} lines read`, async () => (await lines(page)) === read);
    assert.equal(await page.locator("#logs li", {hasText: "same-line"}).count(), 300);
    // Followed: the lines come while the page is open, told by the stream.
    const go = join(dir, "go");
    const live = await submitted(go);
    await page.goto(`${other.url}/#/job/${live}`);
    await page.locator("#job-status", {hasText: "running"}).waitFor(wait);
    await page.locator("#link-state", {hasText: /^live$/}).waitFor(wait);
    writeFileSync(go, "");
    await waitForStatus(other, live, "completed");
    const followed = await total(live);
    await until(`all ${followed} lines followed`, async () => (await lines(page)) === followed);
    assert.equal(await page.locator("#logs li", {hasText: "same-line"}).count(), 300);
    // Each line once, in log order.
    const positions = await page.locator("#logs li").evaluateAll((lis) => lis.map((li) => Number(li.dataset.line)));
    assert.deepEqual(positions, positions.map((_, i) => i));
    await page.context().close();
  } finally {
    await other.stop();
  }
});

/** Scrolls the jobs table from top to bottom: index → job id of every row. */
async function everyRow(page, count) {
  const seen = new Map();
  const viewport = page.locator(".viewport");
  for (let first = 0; first < count; first += 20) {
    await viewport.evaluate((v, top) => { v.scrollTop = top; }, first * 40);
    const want = Array.from({length: Math.min(20, count - first)}, (_, k) => first + k);
    await until(`rows ${first}-${first + want.length - 1}`, async () => {
      const rows = await page.locator("#jobs-table tr[data-index]").evaluateAll((trs) =>
        trs.map((tr) => [Number(tr.dataset.index), tr.dataset.job, tr.querySelector("a").textContent]));
      for (const [i, id, name] of rows) seen.set(i, {id, name});
      return want.every((i) => seen.has(i));
    });
  }
  return seen;
}

test("the jobs table reads its later pages as its first read found the list: no row twice while jobs arrive, and the new ones counted exactly", async () => {
  // Batches of 300 jobs until the newest millisecond holds more than the
  // first page of 100 (a batch is created a few hundred jobs a
  // millisecond): the count of new jobs cannot take that millisecond's
  // jobs from the first page alone. Then 30 more while the table is open,
  // at the top of the list.
  const spec = (name) => ({tool: "noop", name, labels: {paging: "yes"}});
  const batch = async (jobs) => assert.equal((await daemon.api("POST", "/v1/batches", {body: {jobs}})).status, 202);
  let listed;
  for (let round = 0; round < 8; ++round) {
    await batch(Array.from({length: 300}, (_, i) => spec(`paged ${round}.${i}`)));
    listed = (await daemon.api("GET", "/v1/jobs?label.paging=yes&limit=101")).body;
    if (listed.jobs.every((j) => j.created_at === listed.jobs[0].created_at)) break;
  }
  const before = listed.total_count;
  const page = await open("#/jobs?label=paging%3Dyes");
  await page.locator("#jobs-summary", {hasText: `${before} jobs match`}).waitFor(wait);
  await page.locator("#jobs-table tr[data-index='0']").waitFor(wait);
  await batch(Array.from({length: 30}, (_, i) => spec(`arrived ${i}`)));
  await page.locator("#jobs-fresh", {hasText: /new jobs/}).waitFor(wait);
  // Every row once, and none of the new ones.
  const rows = await everyRow(page, before);
  const ids = [...rows.values()].map((r) => r.id);
  assert.equal(new Set(ids).size, before, "a row shown twice");
  assert.deepEqual([...rows.values()].filter((r) => !r.name.startsWith("paged")).map((r) => r.name), []);
  assert.equal(await text(page, "#jobs-summary"), `${before} jobs match`);
  await page.locator("#jobs-fresh", {hasText: /^30 new jobs/}).waitFor(wait);
  await page.locator("#jobs-fresh").click();
  await page.locator("#jobs-summary", {hasText: `${before + 30} jobs match`}).waitFor(wait);
  assert.equal(await page.locator("#jobs-fresh").isHidden(), true);
  await page.context().close();
});

test("the arrow keys walk a long table row by row, the focused row drawn and in view", async () => {
  // The second page of 100 answers slowly: the focus reaches rows still
  // loading, and stays on them until their jobs arrive.
  const slowSecondPage = (p) => p.route(/\/v1\/jobs\?.*offset=1\d\d(&|$)/, async (route) => {
    await new Promise((r) => setTimeout(r, 1000));
    await route.continue();
  });
  const page = await open("#/jobs?label=paging%3Dyes", undefined, slowSecondPage);  // 330 rows or more (the test before)
  const first = page.locator("#jobs-table tr[data-index='0'] a");
  await first.waitFor(wait);
  await first.focus();
  const focusedInView = (i) => page.waitForFunction((i) => {
    const a = document.activeElement;
    const tr = a?.closest?.("tr");
    if (a?.tagName !== "A" || tr?.dataset.index !== String(i)) return false;
    const v = document.querySelector(".viewport").getBoundingClientRect();
    const r = tr.getBoundingClientRect();
    return r.top >= v.top && r.bottom <= v.bottom;
  }, i, wait);
  // Past the rows drawn at first and into the second page of 100.
  for (let i = 1; i <= 130; ++i) {
    await page.keyboard.press("ArrowDown");
    await focusedInView(i);
  }
  for (let i = 129; i >= 120; --i) {
    await page.keyboard.press("ArrowUp");
    await focusedInView(i);
  }
  await page.context().close();
});

test("a token the daemon revokes brings the sign-in box back, whether the stream is closed (1008) or refused on reconnecting", async () => {
  const {dir, daemon: secured} = ownDaemon("revoke");
  const tokensFile = join(dir, "tokens.json");
  const sha = (t) => createHash("sha256").update(t).digest("hex");
  const principals = (...names) => writeFileSync(tokensFile, JSON.stringify({principals:
    names.map((name) => ({name, role: "user", token_sha256: sha(`${name}-token`)}))}));
  principals("alice", "bob");
  secured.args = ["--tokens", tokensFile];
  try {
    await secured.start();
    const context = await newContext({viewport: {width: 1280, height: 800}});
    const page = await context.newPage();
    // 401s are the point here: only page errors count.
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    const signIn = async (name) => {
      await page.getByLabel("Token").fill(`${name}-token`);
      await page.getByRole("button", {name: "Sign in"}).click();
      await page.locator("#jobs-summary", {hasText: "match"}).waitFor(wait);
      await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
    };
    await page.goto(`${secured.url}/#/jobs`);
    await signIn("alice");
    // Alice is taken out of the file: her open stream is closed with 1008.
    principals("bob");
    process.kill(secured.proc.pid, "SIGHUP");
    await page.getByRole("alert").filter({hasText: "refused this token"}).waitFor(wait);
    await page.locator("#connection", {hasText: "Signed out"}).waitFor(wait);
    await signIn("bob");
    // Bob is taken out while the daemon is down: the stream comes back to
    // upgrades refused with 401, which a browser reports as failures alone.
    await secured.stop();
    principals("carol");
    await secured.start();
    await page.getByRole("alert").filter({hasText: "refused this token"}).waitFor(wait);
    await page.locator("#connection", {hasText: "Signed out"}).waitFor(wait);
    await signIn("carol");
    await context.close();
  } finally {
    await secured.stop();
  }
});

test("a frozen daemon: the page stops saying Live, a read or an action says it got no answer, and all comes back when it thaws", async () => {
  const {daemon: other} = ownDaemon("frozen");
  await other.start();
  let frozen = false;
  try {
    const id = (await other.api("POST", "/v1/jobs", {body: {tool: "sleep", params: {seconds: 120, steps: 120},
      name: "frozen"}})).body.job_id;
    // The page's clock is Playwright's: the deadlines (seconds) pass at once.
    const page = await open(`#/job/${id}`, undefined, (p) => p.clock.install(), other.url);
    await page.locator("#job-status", {hasText: "running"}).waitFor(wait);
    await page.locator("#link-state", {hasText: /^live$/}).waitFor(wait);
    await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
    process.kill(other.proc.pid, "SIGSTOP");
    frozen = true;
    // Quiet streams ask the daemon for a word, get none, and give up.
    await page.clock.runFor(30_000);
    await page.locator("#connection", {hasText: "Reconnecting"}).waitFor(wait);
    await page.locator("#link-state", {hasText: "reconnecting"}).waitFor(wait);
    // An action waits for its answer no longer than a read does.
    await page.getByRole("button", {name: "Cancel job"}).click();
    await page.clock.runFor(25_000);
    await page.locator("#action-outcome").getByRole("alert").filter({hasText: "did not answer within 20 s"}).waitFor(wait);
    assert.equal(await page.getByRole("button", {name: "Cancel job"}).isEnabled(), true);
    // Another page opens, and says its first read went unanswered.
    await page.locator('header a[href="#/jobs"]').click();
    await page.locator("#job-status").waitFor({state: "detached", ...wait});  // the jobs page is asking
    await page.clock.runFor(25_000);
    await page.getByRole("alert").filter({hasText: "did not answer within 20 s"}).waitFor(wait);
    await page.getByText("The page loads again when the daemon is back.").waitFor(wait);
    process.kill(other.proc.pid, "SIGCONT");
    frozen = false;
    await page.locator("#connection", {hasText: "Live"}).waitFor(wait);
    await page.locator(`#jobs-table tr[data-job="${id}"]`).waitFor(wait);
    await page.context().close();
  } finally {
    if (frozen) process.kill(other.proc.pid, "SIGCONT");
    await other.stop();
  }
});

test("a link cut short (a %-escape that does not decode) says so, as does a page that does not exist", async () => {
  const page = await open("#/job/%E0%A4%A");
  await page.locator("main h1", {hasText: "Not found"}).waitFor(wait);
  assert.match(await text(page, "main"), /does not decode/);
  await page.goto(`${daemon.url}/#/constructor`);
  await page.locator("main", {hasText: "No page #/constructor"}).waitFor(wait);
  await page.goto(`${daemon.url}/#/jobs`);
  await page.locator("#jobs-summary", {hasText: "match"}).waitFor(wait);
  await page.context().close();
});

test("right-to-left text in a name or a label stays inside it", async () => {
  // U+202E (right-to-left override) reverses what follows it, up to the end
  // of its isolate: without one, the rest of the cell or line.
  const name = "\u202Eevil name";
  const id = await submit({tool: "noop", name, labels: {a: "\u202Eevil", bidi: "plain"}});
  // Finished before a page opens, so that little redraws it. Still, the
  // stream's snapshot redraws a job page once more, and a node replaced
  // between finding the text and measuring it measures 0 wide, which
  // reads as not left to right: each reading is taken until it holds.
  await waitForStatus(daemon, id, "completed");
  /** Whether `word` in `where` reads left to right: its first letter stands left of its last. */
  const leftToRight = (where, word) => where.evaluate((el, word) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node; (node = walker.nextNode());) {
      const at = node.data.indexOf(word);
      if (at < 0) continue;
      const range = document.createRange();
      const left = (k) => {
        range.setStart(node, k);
        range.setEnd(node, k + 1);
        return range.getBoundingClientRect().left;
      };
      return left(at) < left(at + word.length - 1);
    }
    return null;
  }, word);
  const page = await open("#/jobs?label=bidi%3Dplain");
  const row = page.locator(`#jobs-table tr[data-job="${id}"]`);
  await row.waitFor(wait);
  assert.equal(await row.locator("td").first().locator("bdi").textContent(), name);
  await until("the label \"plain\" in the row to read left to right", () => leftToRight(row.locator("td").nth(5), "plain"));
  await row.locator("a").click();
  await page.locator("main h1 bdi", {hasText: "evil name"}).waitFor(wait);
  await until("the label \"plain\" on the job page to read left to right",
              () => leftToRight(page.locator("dd", {hasText: "plain"}), "plain"));
  await page.context().close();
});

test("the assets arrive with the policy and caching the daemon promises, and nothing broke on the way", async () => {
  const res = await fetch(`${daemon.url}/`);
  const csp = res.headers.get("content-security-policy");
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get("cache-control"), "no-cache");
  const script = (await res.text()).match(/src="(\/assets\/[^"]+\/app\.js)"/)[1];
  const js = await fetch(daemon.url + script);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(js.headers.get("cache-control"), /immutable/);
  assert.deepEqual(problems, []);
});
