// Tools: each registered tool's parameter schema, limits and retry policy,
// with the running count and paused state from /v1/health, and a button to
// pause or resume the tool (POST /v1/tools/{name}/pause, /resume).

import {h, fill, facts, retryText, errorBox} from "./dom.js";
import {api} from "./api.js";

export async function render(main, {stream}) {
  const [{tools}, health] = await Promise.all([api("GET", "/v1/tools"), api("GET", "/v1/health")]);
  const list = h("div", {class: "tools"});
  fill(main, h("h1", {}, "Tools"), list);

  const live = new Map();  // name → {running, state}
  function draw(healthDoc) {
    const states = healthDoc?.components?.tools ?? {};
    fill(list, tools.map((t) => {
      const st = states[t.name] ?? {};
      const running = h("span", {}, String(st.running ?? "?"));
      live.set(t.name, running);
      const params = Object.entries(t.params ?? {});
      const state = h("span", {class: "tool-state"});
      const toggle = h("button", {type: "button", class: "tool-toggle"});
      // The operator's reason, kept with the pause for whoever finds the
      // tool paused (the daemon takes one line of at most 500 bytes).
      const why = h("input", {type: "text", class: "reason-input", maxlength: "500",
        placeholder: "Reason for a pause (optional)", "aria-label": `Reason for pausing ${t.name} (optional)`});
      const message = h("div", {class: "message"});
      const show = (paused, reason) => {
        state.textContent = paused ? `⏸ paused${reason ? ` (${reason})` : ""}; queued jobs wait` : "✓ accepting work";
        toggle.textContent = paused ? "Resume tool" : "Pause tool";
        toggle.dataset.paused = paused ? "1" : "";
        why.hidden = paused;
      };
      show(t.paused ?? st.status === "paused", t.paused_reason);
      toggle.addEventListener("click", async () => {
        toggle.disabled = true;
        const action = toggle.dataset.paused ? "resume" : "pause";
        const reason = why.value.trim();
        try {
          const doc = await api("POST", `/v1/tools/${encodeURIComponent(t.name)}/${action}`,
            action === "pause" && reason ? {body: {reason}} : {});
          if (doc.paused) why.value = "";
          show(doc.paused, doc.paused_reason);
          fill(message, h("p", {role: "status"}, doc.paused ? "Paused." : "Resumed."));
        } catch (err) {
          fill(message, errorBox(err));
        }
        toggle.disabled = false;
      });
      return h("section", {class: "card", "aria-labelledby": `tool-${t.name}`, "data-tool": t.name},
        h("h2", {id: `tool-${t.name}`}, t.name, h("small", {}, ` version ${t.version}`)),
        h("p", {}, t.description),
        facts([
          ["State", state],
          ["Running", running],
          ["Recent failures", String(st.recent_failures ?? 0)],
          ["Concurrency limit", t.max_concurrent ? String(t.max_concurrent) : "only the global limit"],
          ["Timeout", t.timeout_s === null ? "none" : `${t.timeout_s} s`],
          ["Retry", retryText(t.retry)],
        ]),
        params.length ? h("table", {class: "schema"},
          h("caption", {}, "Parameters"),
          h("thead", {}, h("tr", {}, ["Name", "Type", "Rule", "Default", "Description"].map((c) => h("th", {scope: "col"}, c)))),
          h("tbody", {}, params.map(([name, p]) => h("tr", {},
            h("th", {scope: "row"}, name, p.required ? " (required)" : ""),
            h("td", {}, p.type ?? ""),
            h("td", {}, rule(p)),
            h("td", {}, p.default === undefined ? "" : JSON.stringify(p.default)),
            h("td", {}, p.description ?? ""))))) : h("p", {class: "muted"}, "No parameters."),
        h("div", {class: "actions"},
          h("a", {class: "button", href: `#/submit/${encodeURIComponent(t.name)}`}, `Submit a ${t.name} job`), why, toggle),
        message);
    }));
  }
  draw(health);
  // The running counts follow the stream: one health read per burst of
  // starts and ends, never a poll.
  let pending = null;
  const off = stream.on("transition", (e) => {
    if (e.to !== "running" && e.from !== "running") return;
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      const doc = await api("GET", "/v1/health").catch(() => null);
      for (const [name, st] of Object.entries(doc?.components?.tools ?? {}))
        if (live.has(name)) live.get(name).textContent = String(st.running);
    }, 1000);
  });
  return () => {
    off();
    clearTimeout(pending);
  };
}

export function rule(p) {
  const parts = [];
  if (p.minimum !== undefined) parts.push(`≥ ${p.minimum}`);
  if (p.maximum !== undefined) parts.push(`≤ ${p.maximum}`);
  if (p.enum) parts.push(`one of ${p.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  if (p.pattern) parts.push(`matches ${p.pattern}`);
  if (p.absolute_path) parts.push("absolute path");
  return parts.join("; ");
}
