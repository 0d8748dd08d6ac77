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
  constructor(status, problem, retryAfterSeconds = NaN) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;  // its Retry-After, NaN without one
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
    const err = new ApiError(res.status, doc, Number(res.headers.get("Retry-After") ?? NaN));
    if (res.status === 401) window.dispatchEvent(new CustomEvent("overseer:unauthorized", {detail: err}));
    throw err;
  }
  return doc;
}

/** The number of jobs matching `query` (one list call with limit=1). A
 * daemon busy with other listings (a 503 naming `listings_waiting`: each
 * reads every match, seconds on a store of millions) is asked again after
 * its Retry-After, with a little jitter so that tabs do not come back
 * together; the third refusal is the caller's. */
export async function countJobs(query) {
  for (let attempt = 1; ; ++attempt) {
    try {
      const page = await api("GET", "/v1/jobs", {query: {...query, limit: 1}});
      return page.total_count;
    } catch (e) {
      const busy = e instanceof ApiError && e.status === 503 && e.problem?.listings_waiting !== undefined;
      if (!busy || attempt >= 3) throw e;
      const seconds = Number.isFinite(e.retryAfterSeconds) ? e.retryAfterSeconds : 5;
      await new Promise((r) => setTimeout(r, seconds * 1000 + Math.random() * 500));
    }
  }
}
