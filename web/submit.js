// The submit form, generated from the chosen tool's parameter schema
// (GET /v1/tools): numbers get number inputs with the schema's bounds, an
// enum a select, a boolean a checkbox, an object or array a JSON text box.
// The server checks everything again; its problem document is shown beside
// the fields it names.

import {h, fill, errorBox} from "./dom.js";
import {api} from "./api.js";
import {rule} from "./tools.js";

export async function render(main, {args, navigate}) {
  const {tools} = await api("GET", "/v1/tools");
  const tool = tools.find((t) => t.name === args[0]) ?? tools.find((t) => t.name === "sleep") ?? tools[0];
  if (!tool) {
    fill(main, h("h1", {}, "Submit a job"), h("p", {}, "No tool is registered."));
    return null;
  }

  const problem = h("div", {"aria-live": "polite"});
  const fields = new Map();  // spec field path ("params.seconds") → {input, read, note}

  function field(path, label, input, help, read) {
    const id = `field-${path.replace(/[^a-z0-9_]/gi, "-")}`;
    input.id = id;
    const note = h("small", {class: "field-error", id: `${id}-error`});
    const helpEl = help ? h("small", {id: `${id}-help`}, help) : null;
    input.setAttribute("aria-describedby", [helpEl ? `${id}-help` : "", `${id}-error`].join(" ").trim());
    fields.set(path, {input, read, note});
    const check = input.type === "checkbox";
    return h("div", {class: check ? "field check" : "field"},
      check ? [input, h("label", {for: id}, label)] : [h("label", {for: id}, label), input], helpEl, note);
  }

  function paramField(name, p) {
    const label = `${name}${p.required ? " (required)" : ""}`;
    const help = [p.description, rule(p)].filter(Boolean).join(" · ");
    const has = p.default !== undefined;
    if (p.enum) {
      const select = h("select", {required: p.required},
        p.required ? null : h("option", {value: ""}, "(default)"),
        p.enum.map((v) => h("option", {value: JSON.stringify(v), selected: has && v === p.default}, String(v))));
      return field(`params.${name}`, label, select, help, () => (select.value === "" ? undefined : JSON.parse(select.value)));
    }
    if (p.type === "boolean") {
      const box = h("input", {type: "checkbox", checked: has ? Boolean(p.default) : false});
      return field(`params.${name}`, label, box, help, () => box.checked);
    }
    if (p.type === "integer" || p.type === "number") {
      const input = h("input", {type: "number", inputmode: "decimal", step: p.type === "integer" ? "1" : "any",
        min: p.minimum, max: p.maximum, required: p.required, value: has ? String(p.default) : ""});
      return field(`params.${name}`, label, input, help, () => (input.value === "" ? undefined : Number(input.value)));
    }
    if (p.type === "object" || p.type === "array") {
      const area = h("textarea", {rows: "3", required: p.required, value: has ? JSON.stringify(p.default) : ""});
      return field(`params.${name}`, label, area, `${help} (JSON)`, () => {
        if (area.value.trim() === "") return undefined;
        try {
          return JSON.parse(area.value);
        } catch {
          return area.value;  // the server names the field and the type it expects
        }
      });
    }
    const input = h("input", {type: "text", required: p.required, value: has ? String(p.default) : ""});
    return field(`params.${name}`, label, input, help, () => (input.value === "" ? undefined : input.value));
  }

  const num = (attrs) => {
    const input = h("input", {type: "number", step: "any", ...attrs});
    return [input, () => (input.value === "" ? undefined : Number(input.value))];
  };
  const text = (attrs) => {
    const input = h("input", {type: "text", ...attrs});
    return [input, () => (input.value.trim() === "" ? undefined : input.value.trim())];
  };
  const [nameIn, readName] = text({maxlength: "256"});
  const [prioIn, readPrio] = num({min: "0", max: "10", step: "1", value: "5"});
  const labelsIn = h("textarea", {rows: "2"});
  const readLabels = () => {
    const out = {};
    for (const line of labelsIn.value.split(/[\n,]/)) {
      const eq = line.indexOf("=");
      if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    return Object.keys(out).length ? out : undefined;
  };
  const [timeoutIn, readTimeout] = num({min: "0"});
  const [attemptsIn, readAttempts] = num({min: "1", max: "100", step: "1"});
  const [delayIn, readDelay] = num({min: "0"});

  const toolSelect = h("select", {id: "tool-select"}, tools.map((t) => h("option", {value: t.name, selected: t === tool}, t.name)));
  toolSelect.addEventListener("change", () => navigate(`#/submit/${encodeURIComponent(toolSelect.value)}`));
  const params = Object.entries(tool.params ?? {});
  const form = h("form", {id: "submit-form", novalidate: true, "aria-labelledby": "submit-title"},
    h("div", {class: "field"}, h("label", {for: "tool-select"}, "Tool"), toolSelect, h("small", {}, tool.description)),
    h("fieldset", {}, h("legend", {}, `Parameters of ${tool.name}`),
      params.length ? params.map(([n, p]) => paramField(n, p)) : h("p", {class: "muted"}, "This tool takes no parameters.")),
    h("fieldset", {}, h("legend", {}, "Job"),
      field("name", "Name", nameIn, "optional, at most 256 characters", readName),
      field("priority", "Priority", prioIn, "0-10, higher runs first", readPrio),
      field("labels", "Labels", labelsIn, "key=value, one per line, e.g. country=Kenya", readLabels),
      field("timeout_s", "Timeout (s)", timeoutIn, `per attempt; the tool's default: ${tool.timeout_s ?? "none"}`, readTimeout),
      field("retry.max_attempts", "Attempts", attemptsIn, `1-100; the tool's default: ${tool.retry.max_attempts}`, readAttempts),
      field("delay_s", "Delay (s)", delayIn, "start no earlier than this many seconds from now", readDelay)),
    h("div", {class: "actions"}, h("button", {type: "submit", id: "submit-button"}, "Submit job")));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const spec = {tool: tool.name, params: {}};
    for (const [path, f] of fields) {
      f.note.textContent = "";
      f.input.removeAttribute("aria-invalid");
      const value = f.read();
      if (value === undefined) continue;
      const [head, tail] = path.split(".");
      if (tail) (spec[head] ??= {})[tail] = value;
      else spec[head] = value;
    }
    fill(problem);
    try {
      const accepted = await api("POST", "/v1/jobs", {body: spec});
      navigate(`#/job/${accepted.job_id}`);
    } catch (err) {
      fill(problem, errorBox(err));
      let first = null;
      for (const fe of err.errors ?? []) {
        const f = fields.get(fe.field);
        if (!f) continue;
        f.note.textContent = fe.message;
        f.input.setAttribute("aria-invalid", "true");
        first ??= f.input;
      }
      first?.focus();
    }
  });

  fill(main, h("h1", {id: "submit-title"}, "Submit a job"), problem, form);
  return null;
}
