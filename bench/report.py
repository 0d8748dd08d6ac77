#!/usr/bin/env python3
"""Turns overseer_bench and run_peers.sh output into ONE table, prints it,
and writes it into docs/performance.md between the generated-section markers;
cluster_bench.py's output (--cluster) into the "Worker nodes" section's own
markers. Either part may be given alone.

usage: report.py [OVERSEER_OUT PEERS_OUT [--paired PAIRED_OUT]] [--meta FILE]
                 [--cluster CLUSTER_OUT [--cluster-meta FILE]]
                 [--doc docs/performance.md]
"""
import argparse, re, sys

BEGIN, END = "<!-- BEGIN GENERATED: bench/run.sh -->", "<!-- END GENERATED: bench/run.sh -->"
CLUSTER_BEGIN = "<!-- BEGIN GENERATED: bench/run.sh, worker nodes -->"
CLUSTER_END = "<!-- END GENERATED: bench/run.sh, worker nodes -->"

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

def read_paired(path):
    """run.sh's paired rounds: for each round (a "# paired round N" line
    opens it), Overseer's figures and the peers' lines of that round, as
    [(overseer figures, peers)]."""
    rounds = []
    for line in open(path):
        if re.match(r"^# paired round \d+", line):
            rounds.append(({}, {}))
            continue
        if not rounds or line.startswith("#") or not line.strip():
            continue
        o, p = rounds[-1]
        if line.startswith("PEER "):
            kv = dict(x.split("=", 1) for x in line.split()[1:])
            p[(kv["system"], kv["mode"], kv["figure"])] = float(kv["value"])
            continue
        f = line.split(None, 6)
        try:
            o[f[0]] = float(f[1]) if len(f) >= 6 else None
        except ValueError:
            continue  # a line of the tools' own chatter
    return rounds

def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    m = len(vals) // 2
    return vals[m] if len(vals) % 2 else (vals[m - 1] + vals[m]) / 2

PAIRED_ROWS = [("end to end, one client, one at a time (embedded submit)", "embedded_noop.serial.sync"),
               ("end to end, one client, one at a time (HTTP POST)", "http_e2e.serial")]

def paired_summary(rounds, systems):
    """For each of PAIRED_ROWS: Overseer's median over the rounds, each
    system's median (None where it did not run), and the median and the
    range of the per-round ratios (Overseer ÷ the best peer of the same
    round), with how many rounds Overseer was ahead."""
    out = []
    for label, name in PAIRED_ROWS:
        ratios = []
        for o, p in rounds:
            best = max((v for (s, m, fig), v in p.items() if m == "always" and fig == "e2e"), default=None)
            if o.get(name) and best:
                ratios.append(o[name] / best)
        out.append((label, name, median(o.get(name) for o, _ in rounds),
                    [median(p.get((s, "always", "e2e")) for _, p in rounds) for s in systems], ratios))
    return out

def paired_table(rounds, systems, names):
    """Each paired round on its own line: the figures behind the table's
    "paired rounds" rows."""
    ran = [s for s in systems if any((s, "always", "e2e") in p for _, p in rounds)]
    lines = ["**Paired rounds (one at a time, fsync on).** Overseer's two one-at-a-time durable figures and the "
             "strongest peers' `always` run back to back, the order swapped every round; each round's ratio is "
             "Overseer ÷ the best peer of that round, so a slow stretch of the disk falls on both sides.",
             "",
             "| round | first | Overseer embedded | Overseer HTTP | " + " | ".join(names[s] for s in ran) +
             " | embedded ÷ best | HTTP ÷ best |",
             "| ---: | --- | ---: | ---: | " + " | ".join("---:" for _ in ran) + " | ---: | ---: |"]
    for i, (o, p) in enumerate(rounds, 1):
        vals = [p.get((s, "always", "e2e")) for s in ran]
        best = max((v for v in vals if v is not None), default=None)
        ratio = lambda v: "n/a" if v is None or not best else f"{v / best:.2f}×"
        emb, http = o.get("embedded_noop.serial.sync"), o.get("http_e2e.serial")
        lines.append(f"| {i} | {'Overseer' if i % 2 else 'the peers'} | {fmt(emb, 'jobs/s')} | {fmt(http, 'jobs/s')} | " +
                     " | ".join(fmt(v, "jobs/s") for v in vals) + f" | {ratio(emb)} | {ratio(http)} |")
    lines.append("")
    return lines

def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v:.2f} ms"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "bytes":
        return f"{v:,.0f} B"
    if unit in ("rows", "commits"):
        return f"{v:.2f}"
    if unit == "us":
        return f"{v:.2f} µs"
    if unit == "%":
        return f"{v:.0f} %"
    return f"{v:,.0f}"

OPEN_LOOP = re.compile(r"^(.+)\.open(\d+)\.achieved$")
OPEN_LOOP_LABELS = {"http_submit": "HTTP submit", "http_poll": "HTTP status poll"}

def cpu_split_table(o):
    """Where a durable no-op job's CPU goes, by thread (overseer_bench's
    <run>.cpu.* figures, from /proc/self/task), for the engine and the
    design's floor (bench/floor.hpp) in the same repetitions. Empty when
    neither ran."""
    runs = [("the engine", "embedded_noop.async.sync"),
            ("the floor: an actor per job", "floor.async.sync"),
            ("the floor without an actor per job", "floor.async.no_job_actor.sync")]
    runs = [(label, name) for label, name in runs if name + ".cpu.total" in o]
    if not runs:
        return []
    med = lambda name: o.get(name, {}).get("median")
    cell = lambda v: "n/a" if v is None else f"{v:.1f}"
    lines = ["Where a durable no-op job's CPU goes, in µs per job (medians), by thread: the group-commit "
             "writer, CAF's workers (the scheduler and the job actors), the attempt pool (the tool bodies), "
             "the event bus. The floor runs right after the engine in each repetition.",
             "",
             "| run | jobs/s | writer | actors | tool bodies | event bus | total |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, name in runs:
        rate = med(name)
        lines.append(f"| {label} | {'n/a' if rate is None else f'{rate:,.0f}'} | " +
                     " | ".join(cell(med(f"{name}.cpu.{role}")) for role in ("writer", "actors", "tools", "events", "total")) + " |")
    lines.append("")
    return lines

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

def replace_block(text, begin, end, section, heading=""):
    """`text` with the part from `begin` to `end` replaced by `section`;
    without the markers, `section` is appended (under `heading`)."""
    if begin in text and end in text:
        return text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    return text.rstrip("\n") + "\n\n" + (heading + "\n\n" if heading else "") + section + "\n"

def write_section(doc, meta_path, source, what, env, lines, figures, width, begin, end, heading=""):
    """Appends each figure's parameters to `lines`, prints the table, and puts it
    with the run's meta and environment between `begin` and `end` in `doc`."""
    lines += [f"Parameters of each {what} (from {source}):", "", "```"]
    lines += [f"{name:{width}s} {f['params']}" for name, f in figures.items()]
    lines.append("```")
    table = "\n".join(lines)
    meta = open(meta_path).read().strip() if meta_path else ""
    section = "\n".join([begin, "", meta, "", f"Environment ({source}):", "", "```", *env, "```", "", table, "", end])
    print(table)
    if doc:
        text = open(doc).read()
        open(doc, "w").write(replace_block(text, begin, end, section, heading))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("overseer", nargs="?"); ap.add_argument("peers", nargs="?")
    ap.add_argument("--doc"); ap.add_argument("--meta")
    ap.add_argument("--cluster", help="cluster_bench.py's output")
    ap.add_argument("--cluster-meta", help="the worker-node section's preamble (date, command)")
    ap.add_argument("--paired", help="run.sh's paired rounds (one-at-a-time durable, Overseer and peers alternating)")
    a = ap.parse_args()
    if bool(a.overseer) != bool(a.peers):
        ap.error("OVERSEER_OUT and PEERS_OUT go together")
    if not a.overseer and not a.cluster:
        ap.error("nothing to report: give OVERSEER_OUT PEERS_OUT, --cluster, or both")
    if a.overseer:
        main_section(a)
    if a.cluster:
        cluster_section(a)

def main_section(a):
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

    paired = read_paired(a.paired) if a.paired else []
    if paired:
        # Each one-at-a-time durable row gets its paired-rounds twin right after it.
        for label, name, ov, vals, ratios in paired_summary(paired, systems):
            i = next(i for i, r in enumerate(rows) if r[0] == label and r[1].startswith("fsync always"))
            rows.insert(i + 1, (label + f", paired rounds (median of {len(paired)})", "fsync always / Overseer sync=true",
                                ov, "jobs/s", vals, True, "", ratios))

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
    for label, dur, ov, unit, vals, higher, target, *per_round in rows:
        if per_round:  # the median of the rounds' own ratios, their range, and the rounds Overseer was ahead
            r = per_round[0]
            cell = "n/a" if not r else (f"{median(r):.2f}× ({min(r):.2f}–{max(r):.2f}, "
                                        f"ahead in {sum(x > 1 for x in r)} of {len(r)})")
        else:
            cell = ratio(ov, vals, higher)
        lines.append(f"| {label} | {dur} | {fmt(ov, unit)} | " + " | ".join(fmt(v, unit) for v in vals) +
                     f" | {cell} |")
    lines.append("")
    lines.append("Ratios above 1 mean Overseer is ahead (for latencies: the best peer's latency ÷ Overseer's). "
                 "Where a durability names Redis' setting, pg-boss runs PostgreSQL's counterpart: "
                 "none = fsync=off, everysec = synchronous_commit=off, always = synchronous_commit=on."
                 + (" A *paired rounds* row gives medians over the rounds below (n/a: a system not in them), "
                    "and as its ratio the median of the rounds' own ratios, their range, and the rounds "
                    "Overseer was ahead in." if paired else ""))
    lines.append("")
    if paired:
        lines += paired_table(paired, systems, names)

    targets = [
        ("embedded end to end, no-op, durable (submit_async, 2 threads)", "embedded_noop.async.sync", "≥ 60,000 jobs/s", lambda v: v >= 60000),
        ("the design's floor, same workload and rows: an actor per job (bench/floor.hpp)", "floor.async.sync", "", None),
        ("the engine as a share of that floor, per repetition", "embedded_noop.async.sync.of_floor", "", None),
        ("the floor without an actor per job (a comparison, not a design the engine may use)", "floor.async.no_job_actor.sync", "", None),
        ("embedded end to end, no-op, sync=false", "embedded_noop.async.nosync", "(no target)", None),
        ("RocksDB rows per no-op job, submit to completed: the job's own", "embedded_noop.async.sync.own_rows_per_job", "≤ 6", lambda v: v <= 6),
        ("RocksDB rows per no-op job, with its share of each commit's (under load)", "embedded_noop.async.sync.rows_per_job", "", None),
        ("RocksDB rows per no-op job, with its share of each commit's (one at a time)", "embedded_noop.serial.sync.rows_per_job", "", None),
        ("group commits per no-op job, one at a time (each a WAL sync with sync=true)", "embedded_noop.serial.sync.commits_per_job", "", None),
        ("HTTP submit, 64 connections, 2 client threads", "http_submit", "≥ 30,000 req/s", lambda v: v >= 30000),
        ("HTTP submit p50 (closed loop)", "http_submit.p50", "", None),
        ("HTTP submit p99 (closed loop)", "http_submit.p99", "", None),
        ("the floor, same client, right after: Beast answering each POST once a job of the design's floor is durable (bench/net_floor.hpp)", "http_submit.floor", "", None),
        ("the floor: p99 (closed loop)", "http_submit.floor.p99", "", None),
        ("HTTP status poll, 64 connections", "http_poll", "≥ 60,000 req/s", lambda v: v >= 60000),
        ("HTTP status poll p50 (closed loop)", "http_poll.p50", "", None),
        ("HTTP status poll p99 (closed loop)", "http_poll.p99", "≤ 2 ms", lambda v: v <= 2),
        ("the network's floor, same client, right after: Beast answering every poll with one kept answer (bench/net_floor.hpp)", "http_poll.floor", "", None),
        ("the network's floor: p99 (closed loop)", "http_poll.floor.p99", "", None),
        ("WebSocket fan-out, 1,000 subscribers, p50", "ws_fanout.p50", "", None),
        ("WebSocket fan-out, 1,000 subscribers, p99", "ws_fanout.p99", "≤ 10 ms", lambda v: v <= 10),
        ("WebSocket transitions dropped", "ws_fanout.dropped", "0", lambda v: v == 0),
        ("the least any server could do, same subscribers, right after: a job's three frames in one send() each (bench/net_floor.hpp), p50", "ws_fanout.floor.p50", "", None),
        ("the least any server could do: p99", "ws_fanout.floor.p99", "", None),
        ("the least any server could do: its CPU per event per subscriber", "ws_fanout.floor.server_cpu_per_delivery", "", None),
        ("WebSocket fan-out: daemon CPU per event per subscriber", "ws_fanout.server_cpu_per_delivery", "", None),
        ("WebSocket fan-out: bench subscribers' CPU per event per subscriber", "ws_fanout.client_cpu_per_delivery", "", None),
        ("WebSocket fan-out: both, share of the 2 cores while events flow", "ws_fanout.cpu_busy", "", None),
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
        lines.append(f"| {label} | {fmt(f['median'], f['unit'])} {'' if f['unit'] in ('ms','s','bytes','us','%') else f['unit']} | "
                     f"{fmt(f['mad'], f['unit'])} | {fmt(f['min'], f['unit'])} – {fmt(f['max'], f['unit'])} | {target} | {met} |")
    lines.append("")
    lines += cpu_split_table(o)
    lines += open_loop_table(o)
    write_section(a.doc, a.meta, "overseer_bench", "Overseer figure", env, lines, o, 30, BEGIN, END)

def us(v):
    """CPU per job: microseconds, or milliseconds from 1 ms on."""
    if v is None:
        return "n/a"
    return f"{v:,.0f} µs" if v < 1000 else f"{v / 1000:,.2f} ms"

def rate(v):
    """jobs/s: decimals only where they matter (the sleep rows)."""
    return "n/a" if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.2f}")

def cluster_section(a):
    """The "Worker nodes" figures: one row per workload and worker count,
    the cluster beside its local baseline, then how many workers one
    scheduler core could feed at the measured CPU per job."""
    o, env = read_overseer(a.cluster)
    med = lambda name: o.get(name, {}).get("median")
    param = lambda name, key: (re.search(rf"(?:^|,){key}=([^,]+)", o.get(name, {}).get("params", "")) or [None, None])[1]
    counts = sorted({int(m.group(1)) for n in o if (m := re.match(r"^cluster\.\w+\.w(\d+)$", n))})
    lines = ["| workload | workers × slots | cluster jobs/s | local jobs/s (`--max-concurrent` = slots) | "
             "cluster ÷ local | ideal jobs/s | scheduler node CPU per job | workers' CPU per job (sum) | "
             "local daemon CPU per job |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    cap = None
    for workload in ("noop", "sleep"):
        for w in counts:
            pre = f"cluster.{workload}.w{w}"
            if pre not in o:
                continue
            cap = int(param(pre, "capacity") or 0)
            local = f"local.{workload}.c{w * cap}"
            ideal = param(pre, "ideal")
            jobs = param(pre, "jobs")
            label = (f"no-op, {int(jobs):,} jobs" if workload == "noop"
                     else f"sleep {param(pre, 'seconds')} s, {int(jobs):,} jobs")
            cl = med(pre)
            ideal_v = float(ideal.rstrip("/s")) if ideal else None
            ideal_cell = f"{ideal_v:g} (cluster at {100 * cl / ideal_v:.0f} %)" if ideal_v and cl else ""
            ratio = med(pre + ".vs_local")
            lines.append(f"| {label} | {w} × {cap} | {rate(cl)} | {rate(med(local))} | "
                         f"{'n/a' if ratio is None else f'{ratio:.2f}×'} | {ideal_cell} | "
                         f"{us(med(pre + '.scheduler_cpu'))} | {us(med(pre + '.workers_cpu'))} | "
                         f"{us(med(local + '.cpu'))} |")
    lines.append("")
    lines.append("Medians over the repetitions; cluster ÷ local is the median of the ratios of runs made back "
                 "to back. CPU is utime + stime from `/proc/PID/stat` (10 ms ticks), read before the submit and "
                 "after the last job, divided by the jobs.")
    lines.append("")
    # How many workers one scheduler core feeds, at the measured figures.
    if counts and cap:
        w = counts[-1]
        noop_cpu, sleep_cpu = med(f"cluster.noop.w{w}.scheduler_cpu"), med(f"cluster.sleep.w{w}.scheduler_cpu")
        secs = float(param(f"cluster.sleep.w{w}", "seconds") or 1)
        demand = cap / secs  # jobs/s one worker with `cap` slots asks for
        parts = []
        if noop_cpu:
            parts.append(f"At the measured **{us(noop_cpu)} of scheduler-node CPU per no-op job** ({w} workers), one "
                         f"core of the scheduler node places and records at most {1e6 / noop_cpu:,.0f} jobs/s. A "
                         f"worker with {cap} slots running {secs:g}-second jobs asks for {demand:g} jobs/s, so one "
                         f"scheduler core could feed **about {1e6 / noop_cpu / demand:,.0f} such workers** on the "
                         f"dispatch cost alone")
        if sleep_cpu:
            parts.append(f"for the {secs:g}-second sleep job as run here ({us(sleep_cpu)} per job: its progress "
                         f"reports and durable checkpoints relayed and written, and the idle cost of the cluster "
                         f"over the run), about **{1e6 / sleep_cpu / demand:,.0f}**")
        if parts:
            lines.append("; ".join(parts) + ". Jobs *d* times shorter divide these counts by *d*.")
            lines.append("")
    write_section(a.doc, a.cluster_meta, "cluster_bench.py", "figure", env, lines, o, 36, CLUSTER_BEGIN, CLUSTER_END,
                  "## Worker nodes")

if __name__ == "__main__":
    main()
