// Building the page from nodes: every string becomes a text node, so
// nothing the server sends is ever parsed as markup.

/**
 * h("a", {href: "#/jobs", class: "x", onclick: fn}, "text", child, [more])
 * Attributes whose name starts with "on" are listeners; `false`/null/undefined
 * attributes and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" || key === "checked") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

/** Text someone typed (a job's name, a label, a reason, a log line) in a
 * <bdi>: its direction is isolated from what follows it, so a right-to-left
 * override (U+202E) in it reverses only itself, never the rest of the cell
 * or line it stands in. */
export function bidi(text) {
  return h("bdi", {}, text ?? "");
}

/** A job's labels as "k=v, k=v", each pair isolated (bidi). */
export function labelList(labels) {
  return Object.entries(labels ?? {}).map(([k, v], i) => [i ? ", " : null, bidi(`${k}=${v}`)]);
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Shortens a job or batch id for tables: "job_01M8…2772". */
export function shortId(id) {
  return id && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id ?? "";
}

const statusMarks = {
  pending: "◷", running: "▶", retrying: "↻", completed: "✓", failed: "✗", cancelled: "⊘", timed_out: "◔",
};

/** A status badge: a mark and the word, so colour is never the only cue. */
export function statusBadge(status) {
  return h("span", {class: "status", "data-status": status},
    h("span", {"aria-hidden": "true"}, statusMarks[status] ?? "•"), " ", String(status ?? "").replace("_", " "));
}

/** A box for the operator's reason for an action (pause, resume, cancel,
 * retry), which the daemon keeps with it after who did it: one line of at
 * most 500 bytes, checked by the daemon, whose refusal names the field. */
export function reasonInput(attrs) {
  return h("input", {type: "text", class: "reason-input", maxlength: "500", placeholder: "Reason (optional)",
    ...attrs});
}

/** The request options for an action: a body with the reason in `input`,
 * if it holds one. The caller empties the box once the action succeeds (a
 * refused reason stays there to be fixed). */
export function takeReason(input) {
  const reason = input.value.trim();
  return reason ? {body: {reason}} : {};
}

/** The share a bar shows: a completed job's work is done, whatever its tool
 * reported (many never report); any other status shows the last report. */
function shownPercent(progress, status) {
  if (status === "completed") return 100;
  return Math.max(0, Math.min(100, Number(progress?.percent ?? 0)));
}

/** A progress bar with its percentage in words beside it. */
export function progressBar(progress, label, status) {
  const percent = shownPercent(progress, status);
  return h("span", {class: "progress"},
    h("progress", {max: "100", value: String(percent), "aria-label": label ?? "progress"}),
    h("span", {class: "percent"}, `${percent.toFixed(percent % 1 ? 1 : 0)} %`));
}

export function updateProgressBar(el, progress, status) {
  const percent = shownPercent(progress, status);
  el.querySelector("progress").value = percent;
  el.querySelector(".percent").textContent = `${percent.toFixed(percent % 1 ? 1 : 0)} %`;
}

export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function duration(ms) {
  if (ms === undefined || ms === null) return "";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** A definition list from [term, value] pairs; values may be nodes. */
export function facts(pairs) {
  return h("dl", {class: "facts"},
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function json(value) {
  return h("pre", {class: "json"}, JSON.stringify(value, null, 2));
}

/** Shows an API error (a problem document) in words. */
export function errorBox(err) {
  const box = h("div", {class: "error", role: "alert"}, h("strong", {}, err.title ?? "Error"), " ",
    err.message ?? String(err));
  if (Array.isArray(err.errors) && err.errors.length)
    box.append(h("ul", {}, err.errors.map((e) => h("li", {}, h("code", {}, e.field), ": ", e.message))));
  return box;
}

/** A retry policy in words: "3 attempts, backoff 1000 ms × 2 up to 60000 ms". */
export function retryText(retry) {
  const n = retry?.max_attempts ?? 1;
  let text = `${n} ${n === 1 ? "attempt" : "attempts"}`;
  if (n > 1) text += `, backoff ${retry.initial_backoff_ms} ms × ${retry.multiplier} up to ${retry.max_backoff_ms} ms`;
  if (retry?.retry_on_timeout) text += ", timeouts retried";
  return text;
}

export const statuses = ["pending", "running", "retrying", "completed", "failed", "cancelled", "timed_out"];
export const terminal = new Set(["completed", "failed", "cancelled", "timed_out"]);

/** A read that events ask for again and again (counts, a batch's state):
 * `soon()` runs `read` after `delayMs`, never while an earlier run is still
 * waiting for the daemon, and once more after it if asked meanwhile. On a
 * large store a count takes seconds; without this, every burst of events
 * would start another round of them on top of those still running. */
export function coalesced(read, delayMs) {
  let timer = null;
  let running = false;
  let again = false;
  let stopped = false;
  function soon() {
    if (stopped || timer) return;
    if (running) {
      again = true;
      return;
    }
    timer = setTimeout(() => {
      timer = null;
      // The caller's read says what failed; the next event reads again.
      run().catch(() => {});
    }, delayMs);
  }
  async function run() {
    running = true;
    try {
      return await read();
    } finally {
      running = false;
      if (again) {
        again = false;
        soon();
      }
    }
  }
  /** Reads now (a page's first read), as one of the runs: it rejects if the
   * read fails. */
  soon.run = run;
  soon.stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  return soon;
}
