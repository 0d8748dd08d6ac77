#!/usr/bin/env python3
"""Plots overseer_bench's scaling figures (--benchmarks=scaling) as one PNG:
left, durable throughput and resident memory as finished jobs pile up in the
store; right, memory per queued job and the drain rate as the queue grows.

usage: plot_scaling.py OVERSEER_OUT PNG   (Debian's python3-matplotlib)
"""
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    figs = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        if len(f) >= 6 and f[0].startswith("scaling."):
            figs[f[0]] = float(f[1])  # the median
    return figs


def series(figs, kind, figure):
    pts = []
    for name, v in figs.items():
        m = re.fullmatch(rf"scaling\.{kind}(\d+)\.{figure}", name)
        if m:
            pts.append((int(m.group(1)), v))
    return sorted(pts)


def main():
    figs = read(sys.argv[1])
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)

    tput = series(figs, "stored", "jobs_per_s")
    rss = series(figs, "stored", "rss")
    xs = [max(x, 1) for x, _ in tput]
    a.plot(xs, [v for _, v in tput], "o-", color="tab:blue", label="durable jobs/s (20,000 no-op)")
    a.set_xscale("symlog", linthresh=1e4)
    a.set_xlabel("finished jobs already stored")
    a.set_ylabel("jobs/s", color="tab:blue")
    a.set_ylim(0, 1.15 * max(v for _, v in tput))
    a2 = a.twinx()
    a2.plot([max(x, 1) for x, _ in rss], [v / 2**20 for _, v in rss], "s--", color="tab:red", label="VmRSS (MiB)")
    a2.set_ylabel("VmRSS, MiB", color="tab:red")
    a2.set_ylim(0, 1.15 * max(v for _, v in rss) / 2**20)
    a.set_title("As the store grows")
    a.grid(True, alpha=0.3)

    mem = series(figs, "queued", "per_queued_job")
    drain = series(figs, "queued", "drain_jobs_per_s")
    b.plot([x for x, _ in mem], [v for _, v in mem], "o-", color="tab:purple", label="bytes per queued job")
    b.set_xscale("log")
    b.set_xlabel("jobs queued")
    b.set_ylabel("VmRSS per queued job, bytes", color="tab:purple")
    b.set_ylim(0, 1.15 * max(v for _, v in mem))
    b2 = b.twinx()
    b2.plot([x for x, _ in drain], [v for _, v in drain], "s--", color="tab:green", label="drain jobs/s")
    b2.set_ylabel("drain, jobs/s (durable)", color="tab:green")
    b2.set_ylim(0, 1.15 * max(v for _, v in drain))
    b.set_title("As the queue grows")
    b.grid(True, alpha=0.3)

    fig.suptitle("Overseer: cost as work grows (overseer_bench --benchmarks=scaling)")
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
