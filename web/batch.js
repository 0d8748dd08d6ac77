// One batch: its aggregate status and counts, every job with live progress
// (the first 1000 in list order), and cancel.

import {h, fill, facts, statusBadge, progressBar, updateProgressBar, shortId, time, statuses, errorBox, reasonInput,
  takeReason, coalesced, bidi} from "./dom.js";
import {api} from "./api.js";
import {Stream, pageStateText} from "./stream.js";

const shown = 1000;

export async function render(main, {args}) {
  const id = args[0];
  let batch = await api("GET", `/v1/batches/${encodeURIComponent(id)}`);
  const list = await api("GET", "/v1/jobs", {query: {batch_id: batch.batch_id, limit: shown}});
  const views = new Map(list.jobs.map((j) => [j.job_id, j]));

  const summary = h("div");
  const counts = h("ul", {class: "counts", "aria-label": "Jobs of the batch by status"});
  const message = h("div", {"aria-live": "polite"});
  const linkState = h("span", {class: "muted"});
  const cancel = h("button", {type: "button", id: "cancel-batch", class: "danger"}, "Cancel batch");
  // The operator's reason, kept in each cancelled job's timeline.
  const why = reasonInput({id: "batch-reason", "aria-label": "Reason for cancelling the batch (optional)"});
  const body = h("tbody");
  fill(main,
    h("p", {class: "crumbs"}, h("a", {href: "#/jobs"}, "Jobs"), " / batch ", shortId(id)),
    h("h1", {}, batch.name ? bidi(batch.name) : `Batch ${batch.batch_id}`),
    h("section", {class: "card", "aria-labelledby": "batch-state"},
      h("h2", {id: "batch-state"}, "State"), summary, counts,
      h("div", {class: "actions"}, why, cancel, linkState), message),
    h("section", {class: "card", "aria-labelledby": "batch-jobs"},
      h("h2", {id: "batch-jobs"}, "Jobs"),
      batch.total_jobs > shown ? h("p", {class: "muted"}, `The first ${shown} of ${batch.total_jobs} jobs; `,
        h("a", {href: `#/jobs`}, "the jobs table"), " lists every job.") : null,
      h("div", {class: "scroll"}, h("table", {id: "batch-table"},
        h("thead", {}, h("tr", {}, ["#", "Job", "Status", "Progress"].map((t) => h("th", {scope: "col"}, t)))),
        body))));

  const rows = new Map();  // job_id → {status, bar, entry, progress}
  batch.jobs.slice(0, shown).forEach((entry, i) => {
    const view = views.get(entry.job_id);
    const status = h("td", {}, statusBadge(entry.status));
    const bar = progressBar(view?.progress, `progress of ${entry.job_id}`, entry.status);
    rows.set(entry.job_id, {status, bar, entry, progress: view?.progress});
    body.append(h("tr", {"data-job": entry.job_id}, h("td", {}, String(i + 1)),
      h("td", {}, h("a", {href: `#/job/${entry.job_id}`}, view?.name ? bidi(view.name) : shortId(entry.job_id))), status, h("td", {}, bar)));
  });

  function show() {
    fill(summary, facts([
      ["Status", statusBadge(batch.batch_status)],
      ["Jobs", String(batch.total_jobs)],
      ["Parallel limit", batch.parallel_limit ? String(batch.parallel_limit) : "none of its own"],
      ["Fail fast", batch.fail_fast ? "yes" : "no"],
      ["Created", time(batch.created_at)],
    ]));
    fill(counts, statuses.map((s) => h("li", {}, statusBadge(s), h("span", {class: "count"}, String(batch.counts[s] ?? 0)))));
    cancel.disabled = ["completed", "failed", "cancelled"].includes(batch.batch_status);
    why.hidden = cancel.disabled;
  }

  // One read at a time: a large batch's state takes a while to read. A read
  // that a cancel's answer overtook is dropped: it would show the batch as
  // it was before the cancel (the next transition reads it again).
  let cancels = 0;
  const reread = coalesced(async () => {
    const before = cancels;
    const read = await api("GET", `/v1/batches/${batch.batch_id}`).catch(() => null);
    if (!read || before !== cancels) return;
    batch = read;
    show();
  }, 500);

  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    fill(message);
    try {
      batch = await api("POST", `/v1/batches/${batch.batch_id}/cancel`, takeReason(why));
      ++cancels;
      why.value = "";
      fill(message, h("p", {role: "status"}, "Cancelled."));
      for (const entry of batch.jobs) {
        const row = rows.get(entry.job_id);
        if (row) fill(row.status, statusBadge(entry.status));
      }
    } catch (err) {
      fill(message, errorBox(err));
    }
    show();
  });

  const stream = new Stream({batch: batch.batch_id});
  stream.on("state", (s) => { linkState.textContent = pageStateText(s); });
  stream.on("transition", (e) => {
    const row = rows.get(e.job_id);
    if (row) {
      --batch.counts[row.entry.status];
      ++batch.counts[e.to];
      row.entry.status = e.to;
      fill(row.status, statusBadge(e.to));
      updateProgressBar(row.bar, row.progress, e.to);
    }
    show();
    reread();  // batch_status follows rules best left to the server
  });
  stream.on("progress", (e) => {
    const row = rows.get(e.job_id);
    if (!row) return;
    row.progress = e.progress;
    updateProgressBar(row.bar, e.progress, row.entry.status);
  });
  stream.on("subscribed", reread);
  stream.start();
  show();
  return () => {
    stream.stop();
    reread.stop();
  };
}
