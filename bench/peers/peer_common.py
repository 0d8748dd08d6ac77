"""What the Python peer benchmarks share: their command line and percentiles."""
import argparse


def parse_args():
    """ROLE (worker or client) --redis URL [--jobs N] [--mode none|everysec|always] [--lookups N]."""
    ap = argparse.ArgumentParser()
    ap.add_argument("role"); ap.add_argument("--redis", required=True)
    ap.add_argument("--jobs", type=int, default=20000); ap.add_argument("--mode", default="none")
    ap.add_argument("--lookups", type=int, default=5000)
    return ap.parse_args()


def pct(sorted_ms, p):
    """The p-th percentile (nearest rank) of an ascending list."""
    i = max(0, min(len(sorted_ms) - 1, int(-(-p * len(sorted_ms) // 100)) - 1))
    return sorted_ms[i]
