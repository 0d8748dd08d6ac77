// The jobs table: filters in the URL (#/jobs?status=&tool=&name=&label=k=v&after=&before=),
// pages of 100 fetched from the server as they scroll into view, and only
// the rows on screen in the DOM, so 10,000 jobs scroll as easily as 10.
// The stream updates the status and progress of the jobs already loaded;
// new jobs are announced and shown on request.

import {h, fill, statusBadge, progressBar, shortId, time, statuses, errorBox, coalesced} from "./dom.js";
import {api, countJobs} from "./api.js";

const rowHeight = 40;  // px; app.css gives every row of #jobs-table this height
const pageSize = 100;
const overscan = 10;
const checksPerRound = 32;  // jobs read per half second to see whether they match the filters
const maxUnchecked = 1000;  // jobs waiting to be read; past it the count is a lower bound ("12+")

/** Whether a job view passes the filters of a list query, as the daemon
 * decides (actors/engine.cpp `matches`): a part of the name compared with
 * ASCII letters folded, every other character as it is. */
export function matches(job, q) {
  const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (q.status && job.status !== q.status) return false;
  if (q.tool && job.tool !== q.tool) return false;
  if (q.name_contains && !fold(job.name ?? "").includes(fold(q.name_contains))) return false;
  if (q.created_after && !(job.created_at >= q.created_after)) return false;
  if (q.created_before && !(job.created_at < q.created_before)) return false;
  for (const [k, v] of Object.entries(q))
    if (k.startsWith("label.") && (job.labels ?? {})[k.slice(6)] !== v) return false;
  return true;
}

/** The list query for the filters of the page URL. */
export function listQuery(query) {
  const q = {};
  if (query.get("status")) q.status = query.get("status");
  if (query.get("tool")) q.tool = query.get("tool");
  if (query.get("name")) q.name_contains = query.get("name");
  for (const pair of (query.get("label") ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq > 0) q[`label.${pair.slice(0, eq).trim()}`] = pair.slice(eq + 1).trim();
  }
  for (const [k, param] of [["after", "created_after"], ["before", "created_before"]]) {
    const v = query.get(k);
    if (v) q[param] = new Date(v).toISOString();
  }
  return q;
}

function filterForm(query, tools, navigate) {
  const field = (id, label, control) => h("div", {class: "field"}, h("label", {for: id}, label), control);
  const status = h("select", {id: "f-status", name: "status"}, h("option", {value: ""}, "any"),
    statuses.map((s) => h("option", {value: s, selected: query.get("status") === s}, s.replace("_", " "))));
  const tool = h("select", {id: "f-tool", name: "tool"}, h("option", {value: ""}, "any"),
    tools.map((t) => h("option", {value: t, selected: query.get("tool") === t}, t)));
  const name = h("input", {id: "f-name", name: "name", type: "search", value: query.get("name") ?? "",
    maxlength: "256", "aria-describedby": "f-name-help"});
  const label = h("input", {id: "f-label", name: "label", value: query.get("label") ?? "",
    "aria-describedby": "f-label-help"});
  const after = h("input", {id: "f-after", name: "after", type: "datetime-local", value: query.get("after") ?? ""});
  const before = h("input", {id: "f-before", name: "before", type: "datetime-local", value: query.get("before") ?? ""});
  const form = h("form", {class: "filters", role: "search", "aria-label": "Filter jobs"},
    field("f-status", "Status", status), field("f-tool", "Tool", tool),
    h("div", {class: "field"}, h("label", {for: "f-name"}, "Name"), name,
      h("small", {id: "f-name-help"}, "a part of it, any case")),
    h("div", {class: "field"}, h("label", {for: "f-label"}, "Labels"), label,
      h("small", {id: "f-label-help"}, "key=value, comma-separated, e.g. country=Kenya")),
    field("f-after", "Created after", after), field("f-before", "Created before", before),
    h("div", {class: "actions"}, h("button", {type: "submit"}, "Apply"),
      h("a", {href: "#/jobs", class: "button quiet"}, "Clear")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const el of [status, tool, name, label, after, before]) if (el.value.trim()) p.set(el.name, el.value.trim());
    navigate(`#/jobs${p.toString() ? `?${p}` : ""}`);
  });
  return form;
}

export async function render(main, {query, stream, navigate}) {
  const tools = (await api("GET", "/v1/tools")).tools.map((t) => t.name);
  const q = listQuery(query);
  const summary = h("p", {id: "jobs-summary", role: "status"}, "Loading…");
  const fresh = h("button", {type: "button", id: "jobs-fresh", class: "quiet", hidden: true, onclick: () => reload()});
  const top = h("tr", {"aria-hidden": "true", class: "spacer"});
  const bottom = h("tr", {"aria-hidden": "true", class: "spacer"});
  const body = h("tbody");
  const table = h("table", {id: "jobs-table", "aria-describedby": "jobs-summary"},
    h("thead", {}, h("tr", {"aria-rowindex": "1"},
      ["Job", "Status", "Tool", "Progress", "Created", "Labels"].map((t) => h("th", {scope: "col"}, t)))),
    body);
  const viewport = h("div", {class: "viewport", tabindex: "0", role: "region", "aria-label": "Jobs, scrollable"}, table);
  const problem = h("div");
  fill(main, h("h1", {}, "Jobs"), filterForm(query, tools, navigate), problem,
    h("div", {class: "table-head"}, summary, fresh), viewport);

  let total = 0;
  const pages = new Map();  // page index → array of job views (or a pending promise)
  const byId = new Map();   // job_id → job view, for live updates

  function load(index) {
    if (pages.has(index)) return;
    const p = api("GET", "/v1/jobs", {query: {...q, limit: pageSize, offset: index * pageSize}}).then((page) => {
      if (pages.get(index) !== p) return;
      pages.set(index, page.jobs);
      fill(problem);  // a page read again after a failure
      for (const j of page.jobs) {
        byId.set(j.job_id, j);
        joined.delete(j.job_id);
      }
      // Jobs that joined while the first page was read are most likely in
      // its count: the listing reads the store after the event was sent.
      if (index === 0 && byStatus) forgetJoined();
      if (byStatus) showNew(joined.size);
      if (index === 0 && page.jobs.length) {
        since = page.jobs[0].created_at;
        shownSince = page.jobs.filter((j) => j.created_at === since).length;
      }
      setTotal(page.total_count);
      draw();
    }, (err) => {
      pages.delete(index);
      fill(problem, errorBox(err));
    });
    pages.set(index, p);
  }

  function setTotal(n) {
    total = n;
    table.setAttribute("aria-rowcount", String(total + 1));
    summary.textContent = `${total} ${total === 1 ? "job matches" : "jobs match"}`;
  }

  function row(i) {
    const page = pages.get(Math.floor(i / pageSize));
    const job = Array.isArray(page) ? page[i % pageSize] : null;
    if (!job) return h("tr", {"aria-rowindex": String(i + 2)}, h("td", {colspan: "6", class: "muted"}, "Loading…"));
    const labels = Object.entries(job.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
    return h("tr", {"aria-rowindex": String(i + 2), "data-job": job.job_id, "data-index": String(i)},
      h("td", {}, h("a", {href: `#/job/${job.job_id}`, class: "row-link"}, job.name || shortId(job.job_id))),
      h("td", {}, statusBadge(job.status)),
      h("td", {}, job.tool),
      h("td", {}, progressBar(job.progress, `progress of ${job.job_id}`, job.status)),
      h("td", {}, time(job.created_at)),
      h("td", {title: labels}, labels));
  }

  let drawn = [-1, -1];
  function draw(force = true) {
    const first = Math.max(0, Math.floor(viewport.scrollTop / rowHeight) - overscan);
    const last = Math.min(total, Math.ceil((viewport.scrollTop + viewport.clientHeight) / rowHeight) + overscan);
    if (!force && drawn[0] === first && drawn[1] === last) return;
    drawn = [first, last];
    for (let p = Math.floor(first / pageSize); p <= Math.floor(Math.max(first, last - 1) / pageSize); ++p) load(p);
    const focused = document.activeElement?.closest?.("tr")?.dataset.index;
    top.style.height = `${first * rowHeight}px`;
    bottom.style.height = `${Math.max(0, total - last) * rowHeight}px`;
    const rows = [];
    for (let i = first; i < last; ++i) rows.push(row(i));
    body.replaceChildren(top, ...rows, bottom);
    if (focused !== undefined) body.querySelector(`tr[data-index="${focused}"] a`)?.focus({preventScroll: true});
  }

  function reload() {
    pages.clear();
    byId.clear();
    forgetJoined();
    showNew(0);
    since = null;
    shownSince = 0;
    load(0);
  }

  let frame = 0;
  viewport.addEventListener("scroll", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => draw(false));
  });
  // Arrow keys move between rows; the rows on screen follow the focus.
  viewport.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const current = Number(document.activeElement?.closest?.("tr")?.dataset.index ?? -1);
    const next = Math.max(0, Math.min(total - 1, current + (e.key === "ArrowDown" ? 1 : -1)));
    e.preventDefault();
    const topOf = next * rowHeight;
    if (topOf < viewport.scrollTop + rowHeight) viewport.scrollTop = topOf - rowHeight;
    else if (topOf > viewport.scrollTop + viewport.clientHeight - 2 * rowHeight)
      viewport.scrollTop = topOf - viewport.clientHeight + 2 * rowHeight;
    draw();
    body.querySelector(`tr[data-index="${next}"] a`)?.focus({preventScroll: true});
  });

  // Live: status and progress of loaded jobs change in place; jobs new to
  // the table are counted and shown on request, so rows do not jump under
  // the reader.
  // - Without filters every job the stream announces is new to the table.
  // - With filters but no status, a job matches from its creation on (tool,
  //   name, labels and creation time never change). The events do not say
  //   whether a job matches (an event has no tool, name or labels), so the
  //   server counts: the jobs that match, created since the newest job
  //   loaded (or since the first announced, if none was), less those of
  //   that millisecond already shown. A walk by created_after reads only
  //   that range, and at most two counts a second go out while jobs arrive.
  // - With a status filter a job of any age joins the list by a transition
  //   into that status, and leaves it by one out of it: the page keeps the
  //   jobs that joined and are not shown. With the status alone the events
  //   say it all; with more filters each job that joins is read
  //   (GET /v1/jobs/{id}, at most `checksPerRound` every half second) and
  //   kept if it still matches them all.
  const filtered = Object.keys(q).length > 0;
  const byStatus = Boolean(q.status);
  const statusAlone = byStatus && Object.keys(q).length === 1;
  let newJobs = 0;
  let since = null;     // created_at of the newest job loaded (ISO), or null
  let shownSince = 0;   // loaded jobs created in that millisecond
  const joined = new Set();    // jobs that entered the status, match, and are not shown
  const unchecked = new Map(); // jobs that entered the status, to be read → their entry's stamp
  let overflowed = false;      // some were not read (too many waiting): the count is a lower bound
  let closed = false;
  function showNew(n) {
    newJobs = n;
    const jobs = n === 1 ? "job" : "jobs";
    const more = overflowed ? "+" : "";
    fresh.textContent = byStatus ? `${n}${more} more ${jobs} ${q.status.replace("_", " ")}: show` : `${n} new ${jobs}: show`;
    fresh.hidden = n === 0 && !overflowed;
  }
  // One count at a time (dom.js coalesced); events meanwhile ask for one more.
  const countNew = coalesced(async () => {
    const base = since;
    // RFC 3339 in UTC with milliseconds on both sides: strings compare as times.
    const after = q.created_after > base ? q.created_after : base;
    try {
      const n = base === null ? 0 : await countJobs({...q, created_after: after});
      // A reload since then has its own base and count.
      if (since === base && !closed) showNew(Math.max(0, n - (after === base ? shownSince : 0)));
    } catch {
      // The daemon went away: the stream's resync reloads the table.
    }
  }, 500);
  const checkJoined = coalesced(async () => {
    const batch = [...unchecked].slice(0, checksPerRound);  // [id, the entry's stamp]
    const round = generation;
    const views = await Promise.all(batch.map(([id]) =>
      api("GET", `/v1/jobs/${encodeURIComponent(id)}`).catch((e) => (e?.status === 404 ? "gone" : null))));
    if (round !== generation || closed) return;  // a reload since then starts afresh
    batch.forEach(([id, entry], i) => {
      // Left, or left and entered again, while it was read: that read is
      // stale; a newer entry waits for its own.
      if (unchecked.get(id) !== entry) return;
      if (views[i] === null) return;  // the read failed: read again next round
      unchecked.delete(id);
      if (views[i] !== "gone" && matches(views[i], q) && !byId.has(id)) joined.add(id);
    });
    showNew(joined.size);
    if (unchecked.size) checkJoined();
  }, 500);
  let stamp = 0;  // numbers each entry into the status, so a stale read is told apart
  let generation = 0;  // bumped by each reload
  /** Starts the count of jobs that joined afresh; reads under way are dropped. */
  function forgetJoined() {
    joined.clear();
    unchecked.clear();
    overflowed = false;
    ++generation;
  }
  function membership(e) {
    if (e.to === q.status && !byId.has(e.job_id)) {
      if (statusAlone) joined.add(e.job_id);
      else if (unchecked.size < maxUnchecked || unchecked.has(e.job_id)) {
        unchecked.set(e.job_id, ++stamp);
        checkJoined();
      } else overflowed = true;
    } else if (e.from === q.status) {
      joined.delete(e.job_id);
      unchecked.delete(e.job_id);
    } else return;
    showNew(joined.size);
  }
  let redraw = 0;
  function later() {
    if (!redraw) redraw = requestAnimationFrame(() => { redraw = 0; draw(); });
  }
  const off = [
    stream.on("transition", (e) => {
      if (byStatus) membership(e);
      else if (filtered && e.from === null) {
        since ??= e.at;
        countNew();
      }
      if (e.from === null) {
        if (!filtered) showNew(newJobs + 1);
        return;
      }
      const job = byId.get(e.job_id);
      if (!job) return;
      job.status = e.to;
      job.attempt = e.attempt;
      later();
    }),
    stream.on("progress", (e) => {
      const job = byId.get(e.job_id);
      if (!job) return;
      job.progress = e.progress;
      later();
    }),
    stream.on("resync", reload),
    // A read that failed (the daemon went away) is read again once the
    // stream is back: the rows on screen load what they lack.
    stream.on("subscribed", () => draw()),
  ];
  load(0);
  return () => {
    off.forEach((f) => f());
    closed = true;
    countNew.stop();
    checkJoined.stop();
    cancelAnimationFrame(frame);
    cancelAnimationFrame(redraw);
  };
}
