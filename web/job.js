// One job: its spec, live progress with step and ETA, attempts, the
// transition timeline, the log tailing live (with a level filter), the
// result with a download, and cancel / retry.
//
// The page holds its own stream subscription (job=ID&logs=1): the
// `subscribed` snapshot gives the current view, events after it update it.
// History is read over REST and merged with the events, each transition
// shown once. Log lines are held by their position in the job's log, never
// by their content (a tool may print the same line many times in one
// millisecond): the REST read says where each line stands, and a `log`
// event means there are lines past the last one held, which are read from
// there. Once the stream runs, nothing takes the page down: a
// read that fails (the daemon went away mid-load) says so where its data
// goes and is read again when the stream is back, and a resync (events the
// daemon no longer retains) reads the timeline afresh, and the log lines
// past those held.

import {h, fill, facts, retryText, json, statusBadge, progressBar, updateProgressBar, time, duration, errorBox, shortId,
  terminal, reasonInput, takeReason, bidi, labelList} from "./dom.js";
import {api} from "./api.js";
import {Stream, pageStateText} from "./stream.js";

const levels = ["debug", "info", "warning", "error", "critical"];
const cancellable = new Set(["pending", "retrying", "running"]);
const retryable = new Set(["failed", "timed_out", "cancelled"]);

export async function render(main, {args}) {
  const id = args[0];
  let job = await api("GET", `/v1/jobs/${encodeURIComponent(id)}`);

  const title = h("h1", {});
  const status = h("span", {id: "job-status"});
  const bar = progressBar(job.progress, "job progress", job.status);
  bar.id = "job-progress";
  const step = h("span", {id: "job-step"});
  const eta = h("span", {id: "job-eta"});
  const attempt = h("span", {id: "job-attempt"});
  // Two lines under the buttons: the job's last failure, redrawn with every
  // state change, and the outcome of the operator's own action, which stays
  // until the next action (a running job's progress events must not wipe a
  // refused cancel's problem document a second after it was drawn).
  const failure = h("div", {"aria-live": "polite", id: "job-failure"});
  const outcome = h("div", {"aria-live": "polite", id: "action-outcome"});
  const cancel = h("button", {type: "button", id: "cancel", class: "danger"}, "Cancel job");
  const retry = h("button", {type: "button", id: "retry"}, "Retry job");
  // The operator's reason for a cancel or retry, kept in the job's timeline.
  const why = reasonInput({id: "action-reason", "aria-label": "Reason for a cancel or retry (optional)"});
  const spec = h("div");
  const timeline = h("ol", {class: "timeline", id: "timeline"});
  const readNote = h("div", {id: "read-note"});
  const levelSelect = h("select", {id: "log-level"}, levels.map((l) => h("option", {value: l}, l)));
  const follow = h("input", {type: "checkbox", id: "log-follow", checked: true});
  const logBox = h("ol", {class: "logs", id: "logs", tabindex: "0", "aria-label": "Log lines"});
  const result = h("div", {id: "result"});
  const linkState = h("span", {class: "muted", id: "link-state"});

  fill(main,
    h("p", {class: "crumbs"}, h("a", {href: "#/jobs"}, "Jobs"), " / ", shortId(id)),
    title,
    h("section", {class: "card", "aria-labelledby": "state-title"},
      h("h2", {id: "state-title", class: "visually-hidden"}, "State"),
      h("div", {class: "state"}, status, bar, step, eta, attempt),
      h("div", {class: "actions"}, why, cancel, retry, linkState), outcome, failure),
    h("div", {class: "grid two"},
      h("section", {class: "card", "aria-labelledby": "spec-title"}, h("h2", {id: "spec-title"}, "Spec"), spec),
      h("section", {class: "card", "aria-labelledby": "history-title"},
        h("h2", {id: "history-title"}, "Timeline"), readNote, timeline)),
    h("section", {class: "card", "aria-labelledby": "result-title"}, h("h2", {id: "result-title"}, "Result"), result),
    h("section", {class: "card", "aria-labelledby": "logs-title"},
      h("h2", {id: "logs-title"}, "Logs"),
      h("div", {class: "filters"},
        h("div", {class: "field"}, h("label", {for: "log-level"}, "Lowest level"), levelSelect),
        h("div", {class: "field check"}, follow, h("label", {for: "log-follow"}, "Follow new lines"))),
      logBox));

  // ---- state -----------------------------------------------------------------
  function showState() {
    fill(title, job.name ? bidi(job.name) : `Job ${job.job_id}`);
    fill(status, statusBadge(job.status));
    updateProgressBar(bar, job.progress, job.status);
    const p = job.progress ?? {};
    step.textContent = p.step_name || (p.total_steps ? `step ${p.current_step} of ${p.total_steps}` : "");
    eta.textContent = estimate();
    // As the engine's lines say it: an interrupted attempt, and those before
    // an explicit retry, do not count against the budget.
    const counted = job.attempts_counted ?? job.attempt;
    attempt.textContent = `attempt ${job.attempt} (${counted} of ${job.retry?.max_attempts ?? 1} allowed)`;
    cancel.disabled = !cancellable.has(job.status);
    retry.disabled = !retryable.has(job.status);
    why.hidden = cancel.disabled && retry.disabled;
    if (job.error) fill(failure, h("p", {class: "error"}, h("strong", {}, "Last failure: "), bidi(job.error)));
    else fill(failure);
  }

  // The tool's own estimate when it gives one; otherwise the pace of this
  // attempt so far.
  function estimate() {
    if (job.status !== "running") return "";
    const p = job.progress ?? {};
    if (p.estimated_completion) return `done about ${time(p.estimated_completion)}`;
    const elapsed = Date.now() - Date.parse(job.started_at);
    if (!(p.percent > 0) || !(elapsed > 0)) return "";
    return `about ${duration((elapsed * (100 - p.percent)) / p.percent)} left`;
  }

  function showSpec() {
    const link = (j) => h("a", {href: `#/job/${j}`}, shortId(j));
    const list = (ids) => ids?.length ? h("span", {class: "links"}, ids.map((j) => [link(j), " "])) : null;
    const labels = Object.keys(job.labels ?? {}).length ? h("span", {}, labelList(job.labels)) : null;
    fill(spec, facts([
      ["Id", h("code", {}, job.job_id)],
      ["Tool", h("a", {href: `#/tools`}, job.tool)],
      ["Priority", String(job.priority)],
      ["Labels", labels],
      ["Batch", job.batch_id ? h("a", {href: `#/batch/${job.batch_id}`, id: "batch-link"}, job.batch_id) : null],
      ["Depends on", list(job.depends_on)],
      ["Waiting on", list(job.waiting_on)],
      ["Run at", time(job.run_at)],
      ["Timeout", job.timeout_s ? `${job.timeout_s} s per attempt` : "none"],
      ["Retry", retryText(job.retry)],
      ["Created", time(job.created_at)],
      ["Started", time(job.started_at)],
      ["Finished", time(job.completed_at)],
      ["Duration", duration(job.duration_ms)],
      ["Next attempt", time(job.next_attempt_at)],
      ["Expires", time(job.expires_at)],
      ["Idempotency key", job.idempotency_key ? bidi(job.idempotency_key) : null],
      ["Cache", job.cache_info ? `answered from the cache of ${job.cache_info.source_job_id}` : job.use_cache ? "used" : ""],
      ["Checkpoint", checkpoint()],
    ]), h("h3", {}, "Params"), json(job.params));
  }

  // The API has no checkpoint field; the engine's log says when an attempt
  // resumed from one.
  function checkpoint() {
    const line = logs.find((l) => l.component === "engine" && l.message.includes("resuming from the checkpoint"));
    return line ? line.message : "not reported by the API (shown when an attempt resumes from one)";
  }

  async function showResult() {
    try {
      await fillResult();
    } catch (err) {
      fill(result, errorBox(err));
    }
  }
  async function fillResult() {
    if (job.status !== "completed") {
      fill(result, h("p", {class: "muted"}, terminal.has(job.status) ? `No result: the job is ${job.status.replace("_", " ")}.`
        : "The result appears here when the job completes."));
      return;
    }
    const value = job.result ?? (await api("GET", `/v1/jobs/${job.job_id}/result`)).result;
    const blob = new Blob([JSON.stringify(value, null, 2)], {type: "application/json"});
    const href = URL.createObjectURL(blob);
    fill(result, json(value), h("a", {href, download: `${job.job_id}-result.json`, class: "button", id: "download"},
      "Download result (JSON)"));
  }

  // ---- timeline and logs -------------------------------------------------------
  // Live transitions may arrive before the REST read: the list is kept in
  // time order (a stable sort, so entries of the same millisecond keep the
  // order they were told in).
  const byTime = (a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);
  const transitions = [];
  const seenTransitions = new Set();
  function addTransition(t) {
    const key = `${t.at}|${t.from}|${t.to}|${t.attempt}`;
    if (seenTransitions.has(key)) return;
    seenTransitions.add(key);
    transitions.push(t);
    transitions.sort(byTime);
    fill(timeline, transitions.map((x) => h("li", {},
      h("time", {datetime: x.at}, time(x.at)), " ",
      x.from ? [statusBadge(x.from), " → "] : null, statusBadge(x.to),
      h("span", {class: "muted"}, ` attempt ${x.attempt}`), h("div", {class: "reason"}, bidi(x.reason)))));
  }

  // The log only grows: the lines held are those from position `logStart`
  // to `logEnd` (exclusive), in log order. The first read takes the newest
  // 1000; each later one what lies past `logEnd`, so no line is read twice
  // and none is dropped for looking like another.
  const logs = [];
  let logStart = 0;
  let logEnd = null;  // null until the first read
  function addLines(lines) {
    const min = levels.indexOf(levelSelect.value);
    for (const l of lines) {
      logs.push(l);
      if (levels.indexOf(l.level) >= min) logBox.append(logLine(l, logStart + logs.length - 1));
    }
    if (follow.checked) logBox.scrollTop = logBox.scrollHeight;
  }
  function showLogs() {
    const min = levels.indexOf(levelSelect.value);
    fill(logBox, logs.map((l, i) => (levels.indexOf(l.level) >= min ? logLine(l, logStart + i) : null)));
    if (follow.checked) logBox.scrollTop = logBox.scrollHeight;
  }
  function logLine(l, position) {
    return h("li", {"data-level": l.level, "data-line": String(position)},
      h("time", {datetime: l.at}, new Date(l.at).toLocaleTimeString()), " ",
      h("span", {class: "level"}, l.level.toUpperCase()), " ",
      h("span", {class: "component"}, l.component), " ", bidi(l.message));
  }
  levelSelect.addEventListener("change", showLogs);

  async function readLogs() {
    const path = `/v1/jobs/${job.job_id}/logs`;
    for (;;) {
      let offset = logEnd ?? 0;
      let page = await api("GET", path, {query: {limit: 1000, offset}});
      if (logEnd === null) {
        // The newest 1000 lines: the first page says how many there are.
        if (page.total > 1000) {
          offset = page.total - 1000;
          page = await api("GET", path, {query: {limit: 1000, offset}});
        }
        logStart = offset;
        logEnd = offset;
      }
      logEnd += page.logs.length;
      addLines(page.logs);
      if (!page.logs.length || logEnd >= page.total) return;
    }
  }
  // One read at a time, and at most one waiting behind it, which every
  // caller meanwhile shares: it reads whatever was written by the time it
  // starts.
  let logRead = Promise.resolve();
  let logQueued = null;
  function pullLogs() {
    logQueued ??= logRead.catch(() => {}).then(() => {
      logQueued = null;
      return readLogs();
    });
    logRead = logQueued;
    return logQueued;
  }
  // A `log` event says there is more: read it (a burst of events, one read).
  let logTimer = null;
  function moreLogs() {
    logTimer ??= setTimeout(() => {
      logTimer = null;
      pullLogs().catch(historyFailed);
    }, 100);
  }

  // The timeline and the logs over REST, one read at a time. "failed" until
  // a read succeeds after a failure; the next (re)subscription retries.
  let reading = null;
  let readFailed = false;
  function historyFailed(err) {
    readFailed = true;
    fill(readNote, errorBox({title: "Timeline and logs not read",
      message: `${err.message}. They are read again when the connection is back.`}));
  }
  function readHistory() {
    reading ??= (async () => {
      try {
        const [history] = await Promise.all([api("GET", `/v1/jobs/${job.job_id}/history`), pullLogs()]);
        for (const t of history.transitions) addTransition(t);
        readFailed = false;
        fill(readNote);
        showSpec();  // the checkpoint line comes from the logs
      } catch (err) {
        historyFailed(err);
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  // ---- actions ----------------------------------------------------------------
  async function act(button, method, path, done) {
    button.disabled = true;
    fill(outcome);
    try {
      job = await api(method, path, takeReason(why));
      why.value = "";
      fill(outcome, h("p", {role: "status"}, done));
      showState();
      showSpec();
      await showResult();
    } catch (err) {
      fill(outcome, errorBox(err));
      showState();
    }
  }
  cancel.addEventListener("click", () => act(cancel, "POST", `/v1/jobs/${job.job_id}/cancel`, "Cancelled."));
  retry.addEventListener("click", () => act(retry, "POST", `/v1/jobs/${job.job_id}/retry`, "Queued again."));

  // ---- live -------------------------------------------------------------------
  const stream = new Stream({job: job.job_id, logs: "1"});
  stream.on("state", (s) => { linkState.textContent = pageStateText(s); });
  stream.on("subscribed", async (m) => {
    if (readFailed) readHistory();
    const before = job.status;
    job = m.snapshot;
    showState();
    if (before !== job.status || !result.childElementCount) {
      showSpec();
      await showResult();
    }
  });
  stream.on("transition", async (e) => {
    addTransition(e);
    job.status = e.to;
    job.attempt = e.attempt;
    showState();
    // The event carries the change; the view carries everything it implies
    // (result, error, timestamps).
    job = await api("GET", `/v1/jobs/${job.job_id}`).catch(() => job);
    showState();
    showSpec();
    await showResult();
  });
  stream.on("progress", (e) => {
    job.progress = e.progress;
    showState();
  });
  stream.on("log", moreLogs);
  stream.on("resync", async () => {
    // Events were skipped: the view and the timeline afresh, and the log
    // lines past those held.
    job = await api("GET", `/v1/jobs/${job.job_id}`).catch(() => job);
    showState();
    showSpec();
    await Promise.all([readHistory(), showResult()]);
  });
  stream.start();

  showState();
  showSpec();
  await Promise.all([readHistory(), showResult()]);
  const tick = setInterval(() => { eta.textContent = estimate(); }, 1000);
  return () => {
    stream.stop();
    clearInterval(tick);
    clearTimeout(logTimer);
  };
}
