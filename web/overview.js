// Overview: jobs per status and per tool, the last hour, and the running
// jobs with live progress bars.
//
// The counts are total_count of filtered list calls (what the page may
// read with the tab's token; /metrics is Prometheus text for operators),
// re-read at most once a second after the stream reports a transition, and
// the last hour counts the jobs created in it (the list filters by creation
// time).

import {h, fill, errorBox, statusBadge, progressBar, updateProgressBar, shortId, statuses, terminal, coalesced, bidi} from "./dom.js";
import {api, countJobs} from "./api.js";

export async function render(main, {stream}) {
  const statusList = h("ul", {class: "counts", "aria-label": "Jobs by status"});
  const toolList = h("ul", {class: "counts", "aria-label": "Jobs by tool"});
  const hour = h("dl", {class: "facts"});
  const live = h("p", {class: "muted"});
  const running = h("tbody");
  const runningEmpty = h("p", {class: "muted"}, "No job is running.");
  fill(main,
    h("h1", {}, "Overview"),
    h("div", {class: "grid"},
      h("section", {class: "card", "aria-labelledby": "by-status"}, h("h2", {id: "by-status"}, "By status"), statusList),
      h("section", {class: "card", "aria-labelledby": "by-tool"}, h("h2", {id: "by-tool"}, "By tool"), toolList),
      h("section", {class: "card", "aria-labelledby": "last-hour"}, h("h2", {id: "last-hour"}, "Last hour"), hour, live)),
    h("section", {class: "card", "aria-labelledby": "running-title"},
      h("h2", {id: "running-title"}, "Running jobs"),
      h("div", {class: "scroll"}, h("table", {id: "running-jobs"},
        h("thead", {}, h("tr", {}, ["Job", "Tool", "Progress", "Step"].map((t) => h("th", {scope: "col"}, t)))),
        running)), runningEmpty));

  const tools = (await api("GET", "/v1/tools")).tools.map((t) => t.name);
  const rows = new Map();  // job_id → {tr, bar, step}

  function addRunning(job) {
    if (rows.has(job.job_id)) return;
    const bar = progressBar(job.progress, `progress of ${job.job_id}`);
    const step = h("td", {}, job.progress?.step_name ?? "");
    const tr = h("tr", {"data-job": job.job_id},
      h("td", {}, h("a", {href: `#/job/${job.job_id}`}, job.name ? bidi(job.name) : shortId(job.job_id))),
      h("td", {}, job.tool), h("td", {}, bar), step);
    rows.set(job.job_id, {tr, bar, step});
    running.append(tr);
    runningEmpty.hidden = true;
  }
  function removeRunning(id) {
    rows.get(id)?.tr.remove();
    rows.delete(id);
    runningEmpty.hidden = rows.size > 0;
  }

  async function refreshCounts() {
    const since = new Date(Date.now() - 3600_000).toISOString();
    const [byStatus, byTool, created, completed, failed, timedOut] = await Promise.all([
      Promise.all(statuses.map((s) => countJobs({status: s}))),
      Promise.all(tools.map((t) => countJobs({tool: t}))),
      countJobs({created_after: since}),
      countJobs({created_after: since, status: "completed"}),
      countJobs({created_after: since, status: "failed"}),
      countJobs({created_after: since, status: "timed_out"}),
    ]);
    fill(statusList, statuses.map((s, i) =>
      h("li", {}, h("a", {href: `#/jobs?status=${s}`}, statusBadge(s)), h("span", {class: "count"}, byStatus[i]))));
    fill(toolList, tools.map((t, i) =>
      h("li", {}, h("a", {href: `#/jobs?tool=${encodeURIComponent(t)}`}, t), h("span", {class: "count"}, byTool[i]))));
    const finished = completed + failed + timedOut;
    fill(hour,
      h("dt", {}, "Created"), h("dd", {}, String(created)),
      h("dt", {}, "Finished of those"), h("dd", {}, String(finished)),
      h("dt", {}, "Failure rate"),
      h("dd", {}, finished ? `${((100 * (failed + timedOut)) / finished).toFixed(1)} % (${failed + timedOut} failed or timed out)` : "no finished job"));
  }

  async function refreshRunning() {
    const page = await api("GET", "/v1/jobs", {query: {status: "running", limit: 100}});
    for (const id of [...rows.keys()]) if (!page.jobs.some((j) => j.job_id === id)) removeRunning(id);
    for (const job of page.jobs) addRunning(job);
  }

  // Throughput as the stream sees it: jobs that finished since this page
  // opened, within the last hour.
  const finishedAt = [];
  function showLive() {
    const cutoff = Date.now() - 3600_000;
    while (finishedAt.length && finishedAt[0] < cutoff) finishedAt.shift();
    const minutes = Math.max(1, Math.min(60, (Date.now() - opened) / 60_000));
    live.textContent = `Seen live since this page opened: ${finishedAt.length} finished ` +
      `(${(finishedAt.length / minutes).toFixed(1)} per minute).`;
  }
  const opened = Date.now();

  // At most one round of counts at a time: on a large store each takes
  // seconds, and jobs keep changing meanwhile.
  const soon = coalesced(() => refreshCounts().then(() => { readFailed = false; }), 1000);

  let readFailed = false;  // the first read failed: the next subscription reads again
  const off = [
    stream.on("progress", (e) => {
      const row = rows.get(e.job_id);
      if (!row) return;
      updateProgressBar(row.bar, e.progress);
      row.step.textContent = e.progress.step_name ?? "";
    }),
    stream.on("transition", (e) => {
      if (e.to === "running") api("GET", `/v1/jobs/${e.job_id}`).then((j) => j.status === "running" && addRunning(j), () => {});
      else removeRunning(e.job_id);
      if (terminal.has(e.to)) finishedAt.push(Date.now());
      showLive();
      soon();
    }),
    // After a reconnect the stream replays what was missed; the running
    // list is re-read once so jobs that started and ended meanwhile are right.
    stream.on("subscribed", () => { refreshRunning().catch(() => {}); if (readFailed) soon(); }),
    stream.on("resync", () => { refreshRunning().catch(() => {}); soon(); }),
  ];
  // With the listeners on, nothing takes the page down: a first read that
  // fails (the daemon went away) says so and is read again when the stream
  // is back.
  try {
    await Promise.all([soon.run(), refreshRunning()]);
  } catch (err) {
    readFailed = true;
    fill(statusList, h("li", {}, errorBox({title: "Not read", message: `${err.message}. The counts are read again when the connection is back.`})));
  }
  showLive();
  const tick = setInterval(showLive, 10_000);
  return () => {
    off.forEach((f) => f());
    soon.stop();
    clearInterval(tick);
  };
}
