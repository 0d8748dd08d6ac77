// The dashboard's shell: the hash router, the live-connection indicator
// and the token box. Each page is a module whose render(main, ctx) fills
// <main> and returns a function that releases what it holds.

import {h, fill, errorBox} from "./dom.js";
import {api, token, setToken, answerTimeoutMs} from "./api.js";
import {Stream, stateText} from "./stream.js";

const pages = {
  "": () => import("./overview.js"),
  jobs: () => import("./jobs.js"),
  job: () => import("./job.js"),
  batch: () => import("./batch.js"),
  tools: () => import("./tools.js"),
  submit: () => import("./submit.js"),
};

const main = document.getElementById("main");
const indicator = document.getElementById("connection");

// Every job's transitions and progress, for every page.
const stream = new Stream({all: "1"});
stream.on("state", showState);
function showState(state) {
  indicator.dataset.state = state;
  indicator.textContent = stateText[state] ?? state;
}

let cleanup = null;
let generation = 0;
// The page could not load because the daemon did not answer (or failed):
// it loads again once the stream is back.
let awaitingDaemon = false;
stream.on("subscribed", () => {
  if (!awaitingDaemon) return;
  awaitingDaemon = false;
  route();
});

/** "#/jobs?status=running" → {page: "jobs", args: [], query: URLSearchParams, bad: false}.
 * A part whose %-escapes do not decode ("%E0%A4%A", cut from a longer link)
 * is kept as it is, and `bad` says so. */
export function parseHash(hash = location.hash) {
  const [path, search] = hash.replace(/^#\/?/, "").split("?");
  let bad = false;
  const decode = (part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      bad = true;
      return part;
    }
  };
  const [page = "", ...args] = path.split("/").map(decode);
  return {page, args, query: new URLSearchParams(search ?? ""), bad};
}

function notFound(...why) {
  fill(main, h("h1", {}, "Not found"), h("p", {}, ...why), h("p", {}, h("a", {href: "#/"}, "Go to the overview")));
}

async function route() {
  const mine = ++generation;
  awaitingDaemon = false;
  cleanup?.();
  cleanup = null;
  const {page, args, query, bad} = parseHash();
  for (const a of document.querySelectorAll("header nav a")) {
    const target = parseHash(a.getAttribute("href")).page;
    if (target === page || ((page === "job" || page === "batch") && target === "jobs")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (bad) {
    notFound("The link ", h("code", {}, location.hash), " is broken: a %-escape in it does not decode ",
      "(cut short when it was copied?).");
    return;
  }
  const load = Object.hasOwn(pages, page) ? pages[page] : null;
  if (!load) {
    notFound("No page ", h("code", {}, location.hash), ".");
    return;
  }
  let mod;
  try {
    // A daemon that stopped answering would leave the import waiting forever.
    let timer;
    mod = await Promise.race([load(), new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the daemon did not answer within ${answerTimeoutMs / 1000} s`)),
        answerTimeoutMs);
    })]).finally(() => clearTimeout(timer));
  } catch (err) {
    // The module did not arrive (the daemon went away between two pages).
    if (mine !== generation) return;
    awaitingDaemon = true;
    fill(main, errorBox({title: "Not loaded", message: err.message}),
      h("p", {class: "muted"}, "The page loads again when the daemon is back."));
    return;
  }
  if (mine !== generation) return;
  fill(main, h("p", {class: "muted"}, "Loading…"));  // until the page's first read is answered
  try {
    cleanup = await mod.render(main, {args, query, stream, navigate}) ?? null;
  } catch (err) {
    if (mine !== generation || err.status === 401) return;  // the token box took over
    awaitingDaemon = err.status === 0 || err.status >= 500;
    fill(main, errorBox(err), awaitingDaemon ? h("p", {class: "muted"}, "The page loads again when the daemon is back.") : null);
  }
  if (mine !== generation) {
    cleanup?.();
    cleanup = null;
  }
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---- the token box ---------------------------------------------------------

function tokenBox(message) {
  cleanup?.();
  cleanup = null;
  ++generation;
  awaitingDaemon = false;
  const input = h("input", {id: "token", name: "token", type: "password", autocomplete: "current-password",
    required: true, value: token()});
  const form = h("form", {class: "card login", "aria-labelledby": "login-title"},
    h("h1", {id: "login-title"}, "Sign in"),
    message ? h("p", {class: "error", role: "alert"}, message) : null,
    h("p", {}, "This daemon needs a bearer token. It is kept for this tab only (session storage)."),
    h("label", {for: "token"}, "Token"), input,
    h("div", {class: "actions"}, h("button", {type: "submit"}, "Sign in"),
      token() ? h("button", {type: "button", class: "quiet", onclick: () => {
        setToken("");
        stream.stop("unauthorized");  // it was opened with the token just dropped
        tokenBox();
      }}, "Sign out") : null));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    try {
      await api("GET", "/v1/tools");
    } catch (err) {
      if (err.status === 401) return;  // the unauthorized handler shows the box again
      fill(main, errorBox(err));
      return;
    }
    stream.restart();
    route();
  });
  fill(main, form);
  input.focus();
}

// A 401 from a read, or a stream that lost its token (a reload of the
// daemon's tokens file closes it with 1008, and the next upgrades are
// refused): the streams stop asking with a token the daemon refuses, and
// the box asks for another. Signing in starts them again.
window.addEventListener("overseer:unauthorized", () => {
  stream.stop("unauthorized");
  tokenBox(token() ? "The daemon refused this token (401). Check it and try again." :
    "The daemon asks for a token (401).");
});
document.getElementById("token-button").addEventListener("click", () => tokenBox());
// The skip link moves the focus; following its href would change the route.
document.querySelector(".skip").addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", route);
stream.start();
// Once the first page is drawn, the others' modules are fetched too: a
// daemon that stops answering later still lets the pages open (and say so).
route().finally(() => {
  for (const load of Object.values(pages)) load().catch(() => {});
});
