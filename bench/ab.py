#!/usr/bin/env python3
"""Interleaved A/B of two benchmark commands, with the noise stated.

On a noisy 2-core machine two runs minutes apart can differ by 30 %, more
than most changes are worth. So this runs A and B in alternating order
(A B, B A, A B, ...), round after round, and judges each round's ratio
B / A, never the two sides' separate medians. It prints every round, then
per figure: the medians of A and B, the median ratio, a 90 % bootstrap
interval of that median ratio, and a two-sided sign test over the rounds
(how likely so lopsided a count of B-better rounds would be if A and B were
the same). A change whose interval spans 1.00 was not measured as a change.

Each command prints overseer_bench's lines: `name median mad min max unit
...`; the median column is what is compared. A command may start with
environment assignments (NAME=value ...), which are set for it alone.

  bench/ab.py --rounds 8 --figures embedded_noop.async.sync,embedded_noop.async.sync.cpu.total \\
    --a '/tmp/old/overseer_bench --benchmarks=embedded_noop --only=embedded_noop.async.sync --repetitions=1' \\
    --b 'build-bench/bench/overseer_bench --benchmarks=embedded_noop --only=embedded_noop.async.sync --repetitions=1'

Exit status 0 when every round gave every figure, 1 otherwise.
"""
import argparse
import math
import os
import random
import re
import shlex
import statistics
import subprocess
import sys

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def split_command(text):
    """(environment, argv) of a command line such as 'X=1 prog --flag'."""
    words = shlex.split(text)
    env = dict(os.environ)
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words:
        raise SystemExit(f"ab.py: no program in {text!r}")
    return env, words


def figures_of(output, wanted):
    """The median column of each wanted figure in overseer_bench's output."""
    found = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in wanted:
            try:
                found[fields[0]] = float(fields[1])
            except ValueError:
                pass
    return found


def run(label, text, wanted):
    env, argv = split_command(text)
    done = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = figures_of(done.stdout, wanted)
    missing = [f for f in wanted if f not in found]
    if done.returncode != 0 or missing:
        tail = "\n".join(done.stdout.splitlines()[-5:])
        print(f"# {label}: exit {done.returncode}, missing {missing}\n{tail}", file=sys.stderr)
    return found


def sign_test(better, worse):
    """Two-sided exact sign test: P(a split at least this lopsided | p=1/2)."""
    n = better + worse
    if n == 0:
        return 1.0
    k = min(better, worse)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_interval(ratios, draws=2000, seed=1):
    """90 % percentile interval of the median ratio (fixed seed: repeatable)."""
    rng = random.Random(seed)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return medians[int(0.05 * draws)], medians[int(0.95 * draws) - 1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="the baseline command")
    p.add_argument("--b", required=True, help="the changed command")
    p.add_argument("--figures", required=True, help="comma-separated figure names to compare")
    p.add_argument("--rounds", type=int, default=6, help="rounds of one A and one B run (default 6)")
    args = p.parse_args()
    wanted = [f for f in args.figures.split(",") if f]
    if args.rounds < 1 or not wanted:
        p.error("need at least one round and one figure")

    results = {"A": [], "B": []}
    for r in range(args.rounds):
        order = ("A", "B") if r % 2 == 0 else ("B", "A")
        row = {}
        for side in order:
            row[side] = run(f"round {r + 1} {side}", args.a if side == "A" else args.b, wanted)
            results[side].append(row[side])
        cells = "  ".join(
            f"{f}: {row['A'].get(f, float('nan')):.6g} / {row['B'].get(f, float('nan')):.6g}" for f in wanted)
        print(f"round {r + 1} ({order[0]} first)  A / B  {cells}", flush=True)

    complete = True
    print(f"\n{'figure':44} {'A median':>12} {'B median':>12} {'B/A':>7} {'90% interval':>15} {'B>A':>5} {'sign p':>7}")
    for f in wanted:
        pairs = [(a[f], b[f]) for a, b in zip(results["A"], results["B"]) if f in a and f in b]
        complete = complete and len(pairs) == args.rounds
        if not pairs:
            print(f"{f:44} no complete round")
            continue
        ratios = [b / a for a, b in pairs if a != 0]
        if not ratios:
            print(f"{f:44} A was 0 in every round")
            continue
        lo, hi = bootstrap_interval(ratios)
        above = sum(1 for x in ratios if x > 1)
        below = sum(1 for x in ratios if x < 1)
        print(f"{f:44} {statistics.median(a for a, _ in pairs):12.6g} {statistics.median(b for _, b in pairs):12.6g} "
              f"{statistics.median(ratios):7.3f} {lo:7.3f}-{hi:<7.3f} {above:>2}/{len(ratios):<2} "
              f"{sign_test(above, below):7.3f}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
