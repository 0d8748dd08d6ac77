// A WebSocket on /v1/stream (docs/api.md "WebSocket stream") holding one
// subscription, given in the URL: {all: "1"}, {job: ID, logs: "1"} or
// {batch: ID}.
//
// One subscription per connection keeps its seq strictly increasing, so the
// highest seq seen is exactly where to resume. When the connection drops the
// state becomes "reconnecting", and the next connection asks for
// since=<that seq>: the server replays what was missed, nothing twice, and
// the state is "catching_up" until the server's `caught_up` says the replay
// is over; only then is it "live" again. A `since` the server no longer
// retains fires "resync": the stream starts afresh and the page reloads its
// data.
//
// The daemon sends nothing while nothing happens, and a browser cannot send
// a WebSocket ping, so a daemon that stopped answering (frozen, or a path to
// it that died without a word) would look live forever. After `idleMs` of
// quiet the stream asks for an answer in-band: {"op": "unsubscribe",
// "nodes": true}, which changes nothing (there is no such subscription) and
// which the daemon acknowledges. No message within `answerMs`, or no
// `subscribed` within `handshakeMs` of opening, and the connection is given
// up: "reconnecting", as after a drop.
//
// A token the daemon no longer takes (removed from its tokens file: the
// stream is closed with 1008, and every upgrade after it is refused, which a
// browser reports only as a failed connection) is checked with a REST read:
// its 401 is the page's "unauthorized" (the sign-in box), and the stream
// stops, "unauthorized", until it is started again with a new token.

import {token, api} from "./api.js";

/** What each state is called: the header's words; a page's own line says them in lower case. */
export const stateText = {connecting: "Connecting…", catching_up: "Catching up…", live: "Live", reconnecting: "Reconnecting…",
  closed: "Offline", unauthorized: "Signed out"};

/** Quiet this long, the stream asks the daemon for an answer. */
export const idleMs = 15_000;
/** The time the daemon has to answer that. */
export const answerMs = 5_000;
/** From opening a connection to the daemon's `subscribed`. */
export const handshakeMs = 10_000;

/** A page's own stream line: "live", "catching up…", …; nothing once closed. */
export const pageStateText = (state) => (state === "closed" || state === "unauthorized" ? "" : (stateText[state] ?? state).toLowerCase());

export class Stream extends EventTarget {
  constructor(params) {
    super();
    this.params = params;
    this.seq = null;            // highest seq seen
    this.state = "connecting";  // connecting | catching_up | live | reconnecting | closed | unauthorized
    this.delay = 250;
    this.ws = null;
    this.timer = null;          // the next connection
    this.watchdog = null;       // the next liveness check
    this.failures = 0;          // connections in a row that never opened
    this.checking = false;      // a REST read checks the token
  }

  start() {
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.state === "closed" || this.state === "unauthorized") this.setState("connecting");
    const url = new URL("/v1/stream", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    for (const [k, v] of Object.entries(this.params)) url.searchParams.set(k, v);
    if (this.seq !== null) url.searchParams.set("since", String(this.seq));
    if (token()) url.searchParams.set("access_token", token());
    const ws = new WebSocket(url);
    this.ws = ws;
    this.openedAt = Date.now();
    this.heard = this.openedAt;  // the last message
    this.asked = null;           // when the pending liveness question was sent
    this.acked = false;          // `subscribed` came on this connection
    let opened = false;
    ws.onopen = () => { opened = true; };
    ws.onmessage = (e) => {
      if (this.ws !== ws) return;
      this.heard = Date.now();
      this.receive(JSON.parse(e.data));
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;  // closed on purpose
      this.ws = null;
      this.lost(e.code, opened);
    };
    this.watchdog = setTimeout(() => this.check(), handshakeMs);
    return this;
  }

  /** The connection ended (closed by the daemon, refused, or given up): try again. */
  lost(code, opened) {
    clearTimeout(this.watchdog);
    this.setState("reconnecting");
    this.failures = opened ? 0 : this.failures + 1;
    // 1008: this stream's token was revoked. Two refused upgrades in a row:
    // perhaps the token again (a browser does not say why). A REST read
    // tells.
    if (code === 1008 || this.failures >= 2) this.checkToken();
    this.timer = setTimeout(() => this.start(), this.delay);
    this.delay = Math.min(this.delay * 2, 2000);
  }

  checkToken() {
    if (this.checking) return;
    this.checking = true;
    const asked = token();
    api("GET", "/v1/tools").then(() => {}, (err) => {
      // api() has told the page (the sign-in box); asking again with the
      // refused token would only be refused again.
      if (err.status === 401 && token() === asked) this.stop("unauthorized");
    }).finally(() => { this.checking = false; });
  }

  /** Whether the daemon still answers (see the top of this file). */
  check() {
    clearTimeout(this.watchdog);
    const ws = this.ws;
    if (!ws) return;
    const now = Date.now();
    if (!this.acked) {
      const left = this.openedAt + handshakeMs - now;
      if (left <= 0) return this.giveUp();
      this.watchdog = setTimeout(() => this.check(), left);
      return;
    }
    if (this.asked !== null) {
      if (this.heard < this.asked) {
        const left = this.asked + answerMs - now;
        if (left <= 0) return this.giveUp();
        this.watchdog = setTimeout(() => this.check(), left);
        return;
      }
      this.asked = null;  // answered: any message will do
    }
    const quiet = now - this.heard;
    if (quiet < idleMs) {
      this.watchdog = setTimeout(() => this.check(), idleMs - quiet);
      return;
    }
    this.asked = now;
    ws.send(JSON.stringify({op: "unsubscribe", nodes: true}));
    this.watchdog = setTimeout(() => this.check(), answerMs);
  }

  /** The daemon does not answer: drop the connection without waiting for
   * its close (which would not come either), and connect again. */
  giveUp() {
    const ws = this.ws;
    this.ws = null;
    ws.close();
    this.lost(1006, this.acked);
  }

  /** Closes for good (the page went away, or the token was refused: then
   * "unauthorized") or to reconnect afresh. */
  stop(state = "closed") {
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.setState(state);
  }

  restart() {
    this.stop();
    this.start();
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", {detail: state}));
  }

  receive(msg) {
    if (msg.type === "error") {
      if (/since \d+ is (older|ahead)/.test(msg.message ?? "")) {
        this.seq = null;
        this.dispatchEvent(new CustomEvent("resync"));
        this.restart();
      }
      return;
    }
    if (msg.type === "unsubscribed") return;  // the answer to a liveness question
    if (msg.type === "subscribed") {
      this.delay = 250;
      this.acked = true;
      this.failures = 0;
      this.check();  // from the handshake's deadline to the idle one
      // A subscription with `since` replays first: it is live once the
      // server says the replay is over.
      if (this.seq === null) {
        this.seq = msg.seq;
        this.setState("live");
      } else {
        this.setState("catching_up");
      }
      // A resume also reports where the subscription stands now; what
      // happened in between follows as events.
      this.dispatchEvent(new CustomEvent("subscribed", {detail: msg}));
      return;
    }
    if (msg.type === "caught_up") {
      // Its seq is how far the replay read: at or past the last event.
      if (this.seq === null || msg.seq > this.seq) this.seq = msg.seq;
      this.setState("live");
      return;
    }
    if (typeof msg.seq === "number") {
      if (this.seq !== null && msg.seq <= this.seq) return;
      this.seq = msg.seq;
    }
    this.dispatchEvent(new CustomEvent(msg.type, {detail: msg}));
  }

  /** stream.on("transition", fn) → a function that removes the listener. */
  on(type, fn) {
    const listener = (e) => fn(e.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }
}
