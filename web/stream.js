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

import {token} from "./api.js";

/** What each state is called: the header's words; a page's own line says them in lower case. */
export const stateText = {connecting: "Connecting…", catching_up: "Catching up…", live: "Live", reconnecting: "Reconnecting…", closed: "Offline"};

/** A page's own stream line: "live", "catching up…", …; nothing once closed. */
export const pageStateText = (state) => (state === "closed" ? "" : (stateText[state] ?? state).toLowerCase());

export class Stream extends EventTarget {
  constructor(params) {
    super();
    this.params = params;
    this.seq = null;            // highest seq seen
    this.state = "connecting";  // connecting | catching_up | live | reconnecting | closed
    this.delay = 250;
    this.ws = null;
    this.timer = null;
  }

  start() {
    clearTimeout(this.timer);
    const url = new URL("/v1/stream", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    for (const [k, v] of Object.entries(this.params)) url.searchParams.set(k, v);
    if (this.seq !== null) url.searchParams.set("since", String(this.seq));
    if (token()) url.searchParams.set("access_token", token());
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (e) => this.receive(JSON.parse(e.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;  // closed on purpose
      this.ws = null;
      this.setState("reconnecting");
      this.timer = setTimeout(() => this.start(), this.delay);
      this.delay = Math.min(this.delay * 2, 2000);
    };
    return this;
  }

  /** Closes for good (the page went away) or to reconnect afresh. */
  stop() {
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.setState("closed");
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
    if (msg.type === "subscribed") {
      this.delay = 250;
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
