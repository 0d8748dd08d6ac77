// Tools: each registered tool's parameter schema, limits and retry policy,
// with the running count and paused state from /v1/health, and a button to
// pause or resume the tool (POST /v1/tools/{name}/pause, /resume).

import {h, fill, facts, retryText, errorBox, reasonInput, takeReason, bidi} from "./dom.js";
import {api} from "./api.js";

export async function render(main, {stream}) {
  const [{tools}, health] = await Promise.all([api("GET", "/v1/tools"), api("GET", "/v1/health")]);
  const list = h("div", {class: "tools"});
  fill(main, h("h1", {}, "Tools"), list);

  const live = new Map();  // name → {running, state}
  function draw(healthDoc) {
    const states = healthDoc?.components?.tools ?? {};
    // Pauses stored for tools this daemon no longer has (health marks them
    // registered: false): each would hold its tool's jobs if the tool came
    // back, so they are shown with a button that lifts them.
    const retired = Object.entries(states).filter(([, st]) => st.registered === false);
    fill(list, tools.map((t) => {
      const st = states[t.name] ?? {};
      const running = h("span", {}, String(st.running ?? "?"));
      live.set(t.name, running);
      const params = Object.entries(t.params ?? {});
      const state = h("span", {class: "tool-state"});
      const toggle = h("button", {type: "button", class: "tool-toggle"});
      // The operator's reason: a pause's is kept with the pause for whoever
      // finds the tool paused, a resume's goes to the daemon's audit log.
      const why = reasonInput({});
      const message = h("div", {class: "message"});
      const show = (paused, reason) => {
        if (paused) fill(state, "⏸ paused", reason ? [" (", bidi(reason), ")"] : null, "; queued jobs wait");
        else fill(state, "✓ accepting work");
        toggle.textContent = paused ? "Resume tool" : "Pause tool";
        toggle.dataset.paused = paused ? "1" : "";
        why.placeholder = paused ? "Reason for a resume (optional)" : "Reason for a pause (optional)";
        why.setAttribute("aria-label", `Reason for ${paused ? "resuming" : "pausing"} ${t.name} (optional)`);
      };
      show(t.paused ?? st.status === "paused", t.paused_reason);
      toggle.addEventListener("click", async () => {
        toggle.disabled = true;
        const action = toggle.dataset.paused ? "resume" : "pause";
        try {
          const doc = await api("POST", `/v1/tools/${encodeURIComponent(t.name)}/${action}`, takeReason(why));
          why.value = "";
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
    }), retired.map(([name, st]) => retiredCard(name, st)));
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

function retiredCard(name, st) {
  const state = h("span", {class: "tool-state"}, "⏸ paused", st.paused_reason ? [" (", bidi(st.paused_reason), ")"] : null);
  const message = h("div", {class: "message"});
  const why = reasonInput({placeholder: "Reason for lifting it (optional)"});
  why.setAttribute("aria-label", `Reason for lifting the pause of ${name} (optional)`);
  const lift = h("button", {type: "button", class: "tool-toggle"}, "Lift the pause");
  lift.addEventListener("click", async () => {
    lift.disabled = true;
    try {
      await api("POST", `/v1/tools/${encodeURIComponent(name)}/resume`, takeReason(why));
      state.textContent = "pause lifted";
      lift.remove();
      why.remove();
      fill(message, h("p", {role: "status"}, "Lifted: the tool will not be paused if it comes back."));
    } catch (err) {
      lift.disabled = false;
      fill(message, errorBox(err));
    }
  });
  return h("section", {class: "card", "aria-labelledby": `tool-${name}`, "data-tool": name, "data-registered": "false"},
    h("h2", {id: `tool-${name}`}, name, h("small", {}, " no longer registered")),
    h("p", {}, "A pause stored for a tool this daemon no longer has. If the tool came back, its jobs would wait until the pause is lifted."),
    facts([["State", state]]),
    h("div", {class: "actions"}, why, lift),
    message);
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
