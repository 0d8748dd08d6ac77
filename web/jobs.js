// The jobs table: filters in the URL (#/jobs?status=&tool=&name=&label=k=v&after=&before=),
// pages of 100 fetched from the server as they scroll into view, and only
// the rows on screen in the DOM, so 10,000 jobs scroll as easily as 10.
// The stream updates the status and progress of the jobs already loaded;
// new jobs are announced and shown on request.

import {h, fill, statusBadge, progressBar, shortId, time, statuses, errorBox, coalesced, bidi, labelList} from "./dom.js";
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

  // The table is the list as its first read found it. New jobs come at the
  // top of the list (newest first), so later pages read by offset alone
  // would shift under the reader: rows read twice, others never. Every
  // later read is bounded by that first read instead: `created_before` the
  // millisecond after its newest job. Only jobs created in that very
  // millisecond after the first read can still join the bounded list; their
  // ids (monotonic ULIDs) sort above the newest job's, so they stand at its
  // top, and each read skips as many rows as the list grew
  // (`total_count` - the first read's).
  let fixed = null;  // {before, newestAt, newestId, base, growth, inNewest}, once the first read found a job
  let firstRead = false;  // the first page has been read

  function load(index) {
    if (pages.has(index)) return;
    if (index > 0 && !firstRead) return;  // the first page fixes what the others read
    const query = {...q, limit: pageSize, offset: index * pageSize};
    const f = fixed;
    if (f) {
      query.created_before = f.before;
      if (!byStatus) query.offset += f.growth;
    }
    const p = api("GET", "/v1/jobs", {query}).then((page) => {
      if (pages.get(index) !== p) return;
      if (f && !byStatus && page.total_count - f.base > f.growth) {
        // Jobs joined the top of the bounded list since: this read is shifted.
        f.growth = page.total_count - f.base;
        pages.delete(index);
        load(index);
        return;
      }
      pages.set(index, page.jobs);
      fill(problem);  // a page read again after a failure
      for (const j of page.jobs) {
        byId.set(j.job_id, j);
        joined.delete(j.job_id);
      }
      if (!firstRead) fix(page);
      // Jobs that joined while the first page was read are most likely in
      // its count: the listing reads the store after the event was sent.
      if (index === 0 && byStatus) forgetJoined();
      if (byStatus) showNew(joined.size);
      setTotal(f && !byStatus ? page.total_count - f.growth : page.total_count);
      draw();
    }, (err) => {
      pages.delete(index);
      fill(problem, errorBox(err));
    });
    pages.set(index, p);
  }

  /** The first read: what the table holds from here on. */
  function fix(page) {
    firstRead = true;
    const newest = page.jobs[0];
    if (newest) {
      const same = page.jobs.filter((j) => j.created_at === newest.created_at).length;
      fixed = {
        before: new Date(Date.parse(newest.created_at) + 1).toISOString(),
        newestAt: newest.created_at,
        newestId: newest.job_id,
        base: page.total_count,
        growth: 0,
        // How many of the jobs that matched had been created in the newest
        // millisecond: all on this page, unless the page is full of them
        // (a batch); then it is read when the count of new jobs needs it.
        inNewest: same < page.jobs.length || page.jobs.length < pageSize ? same : null,
      };
    }
    // Creations the stream told before this read: those after it are new.
    if (!filtered) showNew(told.filter(isNew).length);
    told = null;
    if (filtered && !byStatus && since !== null) countNew();
  }

  /** Whether a job (by id) came after the table's first read: ids sort by creation. */
  function isNew(id) {
    return !fixed || id > fixed.newestId;
  }

  function setTotal(n) {
    total = n;
    table.setAttribute("aria-rowcount", String(total + 1));
    summary.textContent = `${total} ${total === 1 ? "job matches" : "jobs match"}`;
  }

  // Every row drawn has data-row (its index); a row whose job is read also
  // has data-index and data-job. A row still loading can hold the focus
  // (tabindex -1) while the arrow keys pass over it.
  function row(i) {
    const page = pages.get(Math.floor(i / pageSize));
    const job = Array.isArray(page) ? page[i % pageSize] : null;
    if (!job) return h("tr", {"aria-rowindex": String(i + 2), "data-row": String(i), tabindex: "-1"},
      h("td", {colspan: "6", class: "muted"}, "Loading…"));
    const labels = Object.entries(job.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
    return h("tr", {"aria-rowindex": String(i + 2), "data-row": String(i), "data-job": job.job_id, "data-index": String(i)},
      h("td", {}, h("a", {href: `#/job/${job.job_id}`, class: "row-link"}, job.name ? bidi(job.name) : shortId(job.job_id))),
      h("td", {}, statusBadge(job.status)),
      h("td", {}, job.tool),
      h("td", {}, progressBar(job.progress, `progress of ${job.job_id}`, job.status)),
      h("td", {}, time(job.created_at)),
      h("td", {title: labels}, labelList(job.labels)));
  }

  let drawn = [-1, -1];
  function draw(force = true) {
    const first = Math.max(0, Math.floor(viewport.scrollTop / rowHeight) - overscan);
    const last = Math.min(total, Math.ceil((viewport.scrollTop + viewport.clientHeight) / rowHeight) + overscan);
    if (!force && drawn[0] === first && drawn[1] === last) return;
    drawn = [first, last];
    for (let p = Math.floor(first / pageSize); p <= Math.floor(Math.max(first, last - 1) / pageSize); ++p) load(p);
    // The row holding the focus stays in the page, its cells redrawn: a row
    // taken out of the page would take the focus with it (to <body>).
    const active = document.activeElement;
    const held = body.contains(active) ? active.closest("tr[data-row]") : null;
    top.style.height = `${first * rowHeight}px`;
    bottom.style.height = `${Math.max(0, total - last) * rowHeight}px`;
    const rows = [];
    let keep = null;
    for (let i = first; i < last; ++i) {
      const fresh = row(i);
      if (held?.dataset.row === String(i)) {
        redrawHeld(held, fresh);
        keep = held;
        rows.push(held);
      } else {
        rows.push(fresh);
      }
    }
    if (keep) {
      for (const child of [...body.children]) if (child !== keep) child.remove();
      const at = rows.indexOf(keep);
      keep.before(top, ...rows.slice(0, at));
      keep.after(...rows.slice(at + 1), bottom);
    } else {
      body.replaceChildren(top, ...rows, bottom);
    }
  }

  /** The focused row takes the content of its fresh drawing in place. */
  function redrawHeld(held, fresh) {
    if (held.dataset.job && held.dataset.job === fresh.dataset.job) {
      // The same job: every cell but the first, which holds the focused link.
      const cells = [...fresh.cells];
      [...held.cells].forEach((cell, k) => { if (k > 0) cell.replaceWith(cells[k]); });
      return;
    }
    // A job read where "Loading…" stood (or the other way after a reload):
    // the row itself holds the focus while its cells change, then its link.
    held.tabIndex = -1;
    if (document.activeElement !== held) held.focus({preventScroll: true});
    held.replaceChildren(...fresh.childNodes);
    held.querySelector("a")?.focus({preventScroll: true});
    for (const {name} of [...held.attributes]) if (!fresh.hasAttribute(name)) held.removeAttribute(name);
    for (const {name, value} of [...fresh.attributes]) held.setAttribute(name, value);
  }

  function focusRow(i) {
    const tr = body.querySelector(`tr[data-row="${i}"]`);
    (tr?.querySelector("a") ?? tr)?.focus({preventScroll: true});
  }

  function reload() {
    pages.clear();
    byId.clear();
    forgetJoined();
    showNew(0);
    fixed = null;
    firstRead = false;
    told = [];
    since = null;
    load(0);
  }

  let frame = 0;
  viewport.addEventListener("scroll", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => draw(false));
  });
  // Arrow keys move between rows; the rows on screen follow the focus: the
  // table scrolls to keep the next row in view (a row clear of the sticky
  // header), draws it, and focuses it.
  viewport.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    if (!total) return;
    const current = Number(document.activeElement?.closest?.("tr[data-row]")?.dataset.row ?? -1);
    const next = Math.max(0, Math.min(total - 1, current + (e.key === "ArrowDown" ? 1 : -1)));
    e.preventDefault();
    const topOf = next * rowHeight;
    if (topOf < viewport.scrollTop + rowHeight) viewport.scrollTop = topOf - rowHeight;
    else if (topOf > viewport.scrollTop + viewport.clientHeight - 2 * rowHeight)
      viewport.scrollTop = topOf - viewport.clientHeight + 2 * rowHeight;
    draw(false);
    focusRow(next);
  });

  // Live: status and progress of loaded jobs change in place; jobs new to
  // the table are counted and shown on request, so rows do not jump under
  // the reader.
  // - Without filters every job the stream announces is new to the table
  //   if it came after the first read: its id sorts above the newest job's
  //   then (creations told while that read was under way wait for it).
  // - With filters but no status, a job matches from its creation on (tool,
  //   name, labels and creation time never change). The events do not say
  //   whether a job matches (an event has no tool, name or labels), so the
  //   server counts: the jobs that match, created since the newest job's
  //   millisecond (or since the first announced, if the table is empty),
  //   less those of that millisecond the first read found, exactly: read
  //   if the first page was full of them. A walk by created_after reads
  //   only that range, and at most two counts a second go out while jobs
  //   arrive.
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
  let told = [];        // ids of creations told before the first read was answered
  let since = null;     // an empty table's: created_at of the first creation told since (ISO), or null
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
    const f = fixed;
    const base = since;
    try {
      let n = 0;
      if (f) {
        f.inNewest ??= await inNewest(f);
        n = (await countJobs({...q, created_after: f.newestAt})) - f.inNewest;
      } else if (base !== null) {
        // RFC 3339 in UTC with milliseconds on both sides: strings compare as times.
        n = await countJobs({...q, created_after: q.created_after > base ? q.created_after : base});
      }
      // A reload since then has its own base and count.
      if (fixed === f && since === base && !closed) showNew(Math.max(0, n));
    } catch {
      // The daemon went away: the stream's resync reloads the table.
    }
  }, 500);
  /** The jobs that matched in the newest job's millisecond at the first
   * read: those there now, less those created after it (ids above the
   * newest job's, at the top of the list). */
  async function inNewest(f) {
    const page = await api("GET", "/v1/jobs",
      {query: {...q, created_after: f.newestAt, created_before: f.before, limit: 1000}});
    return page.total_count - page.jobs.filter((j) => j.job_id > f.newestId).length;
  }
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
        if (!fixed) since ??= e.at;
        countNew();
      }
      if (e.from === null) {
        if (!filtered) {
          if (told) told.push(e.job_id);
          else if (isNew(e.job_id)) showNew(newJobs + 1);
        }
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
