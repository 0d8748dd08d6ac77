// The REST API (/v1, docs/api.md) with the bearer token of this tab.
//
// The token lives in sessionStorage: it survives a reload, not the tab.

const tokenKey = "overseer.token";

export function token() {
  return sessionStorage.getItem(tokenKey) ?? "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(tokenKey, value);
  else sessionStorage.removeItem(tokenKey);
  window.dispatchEvent(new CustomEvent("overseer:token"));
}

/** An answer other than 2xx; carries the problem document's fields. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.title = problem?.title ?? `HTTP ${status}`;
    this.errors = problem?.errors ?? [];
    this.problem = problem;
  }
}

/** api("GET", "/v1/jobs", {query: {status: "running"}}) → parsed JSON. */
export async function api(method, path, {query, body} = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const headers = {Accept: "application/json"};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) {
    throw new ApiError(0, {title: "Network error", detail: `the daemon did not answer (${e.message})`});
  }
  const text = await res.text();
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    doc = {detail: text};
  }
  if (!res.ok) {
    const err = new ApiError(res.status, doc);
    if (res.status === 401) window.dispatchEvent(new CustomEvent("overseer:unauthorized", {detail: err}));
    throw err;
  }
  return doc;
}

/** The number of jobs matching `query` (one list call with limit=1). */
export async function countJobs(query) {
  const page = await api("GET", "/v1/jobs", {query: {...query, limit: 1}});
  return page.total_count;
}
