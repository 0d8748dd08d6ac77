#!/usr/bin/env python3
"""Turns overseer_bench and run_peers.sh output into ONE table, prints it,
and writes it into docs/performance.md between the generated-section markers.

usage: report.py OVERSEER_OUT PEERS_OUT [--doc docs/performance.md] [--meta FILE]
"""
import argparse, re, sys

BEGIN, END = "<!-- BEGIN GENERATED: bench/run.sh -->", "<!-- END GENERATED: bench/run.sh -->"

def read_overseer(path):
    figs, env = {}, []
    for line in open(path):
        if line.startswith("# ") and not line.startswith("# name"):
            env.append(line[2:].strip())
        if line.startswith("#") or not line.strip():
            continue
        f = line.split(None, 6)
        if len(f) >= 6:
            figs[f[0]] = {"median": float(f[1]), "mad": float(f[2]), "min": float(f[3]), "max": float(f[4]),
                          "unit": f[5], "params": f[6].strip() if len(f) > 6 else ""}
    return figs, env

def read_peers(path):
    peers = {}
    for line in open(path):
        if not line.startswith("PEER "):
            continue
        kv = dict(x.split("=", 1) for x in line.split()[1:])
        peers[(kv["system"], kv["mode"], kv["figure"])] = float(kv["value"])
    return peers

def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v:.2f} ms"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "bytes":
        return f"{v:,.0f} B"
    if unit == "rows":
        return f"{v:.2f}"
    return f"{v:,.0f}"

OPEN_LOOP = re.compile(r"^(.+)\.open(\d+)\.achieved$")
OPEN_LOOP_LABELS = {"http_submit": "HTTP submit", "http_poll": "HTTP status poll"}

def open_loop_table(o):
    """The second table: overseer_bench's open-loop runs (<bench>.open<pct>.*),
    one row per benchmark and offered rate, after the closed-loop run of the
    same benchmark for comparison. Empty when none ran (--open-loop=)."""
    runs = {}
    for name in o:
        m = OPEN_LOOP.match(name)
        if m:
            runs.setdefault(m.group(1), []).append(int(m.group(2)))
    if not runs:
        return []
    med = lambda name: o.get(name, {}).get("median")
    def ms(name):  # a server that falls behind gives seconds: no decimals there
        v = med(name)
        return "n/a" if v is None else (f"{v:,.0f} ms" if v >= 100 else f"{v:.2f} ms")
    lines = ["**Open-loop latency (from the intended send time).** Each benchmark's closed-loop run, then open-loop "
             "runs at fixed offered rates (a percentage of the closed-loop req/s): request *i* is due at "
             "*t0 + i / rate*, and its latency runs from that due time, so a stall counts for every request it "
             "delays ([Closed loop and open loop](#closed-loop-and-open-loop)).",
             "",
             "| benchmark | mode | offered req/s | achieved req/s | p50 | p99 | p99.9 |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for bench, pcts in runs.items():
        label = OPEN_LOOP_LABELS.get(bench, bench)
        if bench in o:
            lines.append(f"| {label} | closed loop (as fast as answered) | | {fmt(med(bench), 'req/s')} | "
                         f"{ms(bench + '.p50')} | {ms(bench + '.p99')} | {ms(bench + '.p999')} |")
        for pct in sorted(pcts):
            pre = f"{bench}.open{pct}"
            m = re.search(r"(?:^|,)offered=(\d+)", o[pre + ".achieved"]["params"])
            offered = float(m.group(1)) if m else None
            lines.append(f"| {label} | open loop, {pct} % | {fmt(offered, 'req/s')} | "
                         f"{fmt(med(pre + '.achieved'), 'req/s')} | {ms(pre + '.p50')} | "
                         f"{ms(pre + '.p99')} | {ms(pre + '.p999')} |")
    lines.append("")
    return lines

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("overseer"); ap.add_argument("peers")
    ap.add_argument("--doc"); ap.add_argument("--meta")
    a = ap.parse_args()
    o, env = read_overseer(a.overseer)
    p = read_peers(a.peers)
    systems = ["celery", "rq", "bullmq", "sidekiq", "pgboss"]
    og = lambda name: o.get(name, {}).get("median")

    rows = []  # figure, durability, overseer, unit, [one value per system], higher_is_better, target
    def peer_row(label, dur, oname, unit, mode, pfig, higher=True, target=""):
        vals = [p.get((s, mode, pfig)) for s in systems]
        rows.append((label, dur, og(oname), unit, vals, higher, target))
    # One client, one at a time, end to end: the like-for-like comparison.
    peer_row("end to end, one client, one at a time (embedded submit)", "not persisted: Redis none / Overseer sync=false",
             "embedded_noop.serial.nosync", "jobs/s", "none", "e2e")
    peer_row("end to end, one client, one at a time (embedded submit)", "Redis everysec / Overseer sync=false",
             "embedded_noop.serial.nosync", "jobs/s", "everysec", "e2e")
    peer_row("end to end, one client, one at a time (embedded submit)", "fsync always / Overseer sync=true",
             "embedded_noop.serial.sync", "jobs/s", "always", "e2e")
    peer_row("end to end, one client, one at a time (HTTP POST)", "fsync always / Overseer sync=true",
             "http_e2e.serial", "jobs/s", "always", "e2e")
    bulk = "end to end, many in flight (Overseer submit_async; BullMQ addBulk, Sidekiq push_bulk, pg-boss insert)"
    peer_row(bulk, "not persisted / sync=false",
             "embedded_noop.async.nosync", "jobs/s", "none", "e2e.bulk")
    peer_row(bulk, "fsync always / sync=true",
             "embedded_noop.async.sync", "jobs/s", "always", "e2e.bulk", target="≥ 60,000 jobs/s")
    peer_row("status look-up by id, one client, p50", "fsync always / durable", "http_poll.serial.p50", "ms",
             "always", "lookup.p50", higher=False)
    peer_row("status look-up by id, one client, p99", "fsync always / durable", "http_poll.serial.p99", "ms",
             "always", "lookup.p99", higher=False)

    def ratio(ov, vals, higher):
        vals = [v for v in vals if v is not None]
        if ov is None or not vals:
            return "n/a"
        best = max(vals) if higher else min(vals)
        if higher:
            return f"{ov / best:.2f}×" if best else "n/a"
        return f"{best / ov:.2f}×" if ov else "n/a"  # >1 means Overseer is faster

    names = {"celery": "Celery", "rq": "RQ", "bullmq": "BullMQ", "sidekiq": "Sidekiq", "pgboss": "pg-boss"}
    lines = ["| figure | durability | Overseer | " + " | ".join(names[s] for s in systems) + " | Overseer ÷ best peer |",
             "| --- | --- | ---: | " + " | ".join("---:" for _ in systems) + " | ---: |"]
    for label, dur, ov, unit, vals, higher, target in rows:
        lines.append(f"| {label} | {dur} | {fmt(ov, unit)} | " + " | ".join(fmt(v, unit) for v in vals) +
                     f" | {ratio(ov, vals, higher)} |")
    lines.append("")
    lines.append("Ratios above 1 mean Overseer is ahead (for latencies: the best peer's latency ÷ Overseer's). "
                 "Where a durability names Redis' setting, pg-boss runs PostgreSQL's counterpart: "
                 "none = fsync=off, everysec = synchronous_commit=off, always = synchronous_commit=on.")
    lines.append("")

    targets = [
        ("embedded end to end, no-op, durable (submit_async, 2 threads)", "embedded_noop.async.sync", "≥ 60,000 jobs/s", lambda v: v >= 60000),
        ("embedded end to end, no-op, sync=false", "embedded_noop.async.nosync", "(no target)", None),
        ("RocksDB rows per no-op job, submit to completed: the job's own", "embedded_noop.async.sync.own_rows_per_job", "≤ 6", lambda v: v <= 6),
        ("RocksDB rows per no-op job, with its share of each commit's (under load)", "embedded_noop.async.sync.rows_per_job", "", None),
        ("RocksDB rows per no-op job, with its share of each commit's (one at a time)", "embedded_noop.serial.sync.rows_per_job", "", None),
        ("HTTP submit, 64 connections, 2 client threads", "http_submit", "≥ 30,000 req/s", lambda v: v >= 30000),
        ("HTTP submit p50 (closed loop)", "http_submit.p50", "", None),
        ("HTTP submit p99 (closed loop)", "http_submit.p99", "", None),
        ("HTTP status poll, 64 connections", "http_poll", "≥ 60,000 req/s", lambda v: v >= 60000),
        ("HTTP status poll p50 (closed loop)", "http_poll.p50", "", None),
        ("HTTP status poll p99 (closed loop)", "http_poll.p99", "≤ 2 ms", lambda v: v <= 2),
        ("WebSocket fan-out, 1,000 subscribers, p50", "ws_fanout.p50", "", None),
        ("WebSocket fan-out, 1,000 subscribers, p99", "ws_fanout.p99", "≤ 10 ms", lambda v: v <= 10),
        ("WebSocket transitions dropped", "ws_fanout.dropped", "0", lambda v: v == 0),
        ("restart, 1,000,000 stored / 100,000 unfinished: listening", "restart.listening", "", None),
        ("restart: first successful GET", "restart.first_get", "≤ 3 s", lambda v: v <= 3),
        ("memory per queued job (VmRSS delta)", "memory.per_queued_job", "≤ 1,024 B", lambda v: v <= 1024),
    ]
    lines += ["| target | Overseer (median) | MAD | min – max | target | met |",
              "| --- | ---: | ---: | ---: | --- | :---: |"]
    for label, name, target, ok in targets:
        f = o.get(name)
        if not f:
            lines.append(f"| {label} | not measured | | | {target} | |")
            continue
        met = "" if ok is None else ("yes" if ok(f["median"]) else "**no**")
        lines.append(f"| {label} | {fmt(f['median'], f['unit'])} {'' if f['unit'] in ('ms','s','bytes') else f['unit']} | "
                     f"{fmt(f['mad'], f['unit'])} | {fmt(f['min'], f['unit'])} – {fmt(f['max'], f['unit'])} | {target} | {met} |")
    lines.append("")
    lines += open_loop_table(o)
    lines.append("Parameters of each Overseer figure (from overseer_bench):")
    lines.append("")
    lines.append("```")
    for name, f in o.items():
        lines.append(f"{name:30s} {f['params']}")
    lines.append("```")
    table = "\n".join(lines)

    meta = open(a.meta).read().strip() if a.meta else ""
    section = "\n".join([BEGIN, "", meta, "", "Environment (overseer_bench):", "", "```", *env, "```", "", table, "", END])
    print(table)
    if a.doc:
        text = open(a.doc).read()
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
        else:
            text += "\n" + section + "\n"
        open(a.doc, "w").write(text)

if __name__ == "__main__":
    main()
