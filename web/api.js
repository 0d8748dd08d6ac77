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

/** How long a call waits for the daemon's whole answer before it fails
 * ("No answer", status 0, like a connection that failed): a daemon that
 * stopped answering (frozen, or its host gone without a word) must not
 * leave a page loading, or a button pressed, forever. The slowest answers
 * a busy daemon gives (a count over a million jobs) take seconds. */
export const answerTimeoutMs = 20_000;

/** api("GET", "/v1/jobs", {query: {status: "running"}}) → parsed JSON. */
export async function api(method, path, {query, body, timeoutMs = answerTimeoutMs} = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const headers = {Accept: "application/json"};
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let res;
  let text;
  try {
    res = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal});
    text = await res.text();
  } catch (e) {
    if (abort.signal.aborted) {
      // A change may have reached the daemon, which may still make it.
      const maybe = method === "GET" || method === "HEAD" ? "" : "; it may still do what was asked when it does";
      throw new ApiError(0, {title: "No answer", detail: `the daemon did not answer within ${timeoutMs / 1000} s${maybe}`});
    }
    throw new ApiError(0, {title: "Network error", detail: `the daemon did not answer (${e.message})`});
  } finally {
    clearTimeout(timer);
  }
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    doc = {detail: text};
  }
  if (!res.ok) {
    const err = new ApiError(res.status, doc, Number(res.headers.get("Retry-After") ?? NaN));
    // A 401 for a token replaced since the call went out says nothing about the new one.
    if (res.status === 401 && t === token()) window.dispatchEvent(new CustomEvent("overseer:unauthorized", {detail: err}));
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
