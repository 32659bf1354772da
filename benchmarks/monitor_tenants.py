#!/usr/bin/env python
"""`outmail check --all-tenants`: the whole run against the sum of the tenants' own runs, for several --jobs, and
what one hung tenant costs the others.

Starts one sandbox per tenant (each its own token service and SMTP server on 127.0.0.1) with the slow-smtp fault,
every SMTP reply delayed `--delay` seconds (a stand-in for the round trip to Exchange Online; 9 replies per check), and
runs `tui.diagnostics.monitor.run_monitor(path, all_tenants=True, jobs=J)` in-process with a fresh token cache each
run (so every token comes from the token service). Then the same tenants plus one silent-server tenant, with
`[console] timeout_seconds = --timeout`: the run takes about the timeout, not the timeout plus the others.

    python benchmarks/monitor_tenants.py [--tenants 12] [--delay 0.1] [--runs 3] [--timeout 2]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.diagnostics.multitenant import tenant_sandboxes  # noqa: E402
from tui.diagnostics.monitor import run_monitor  # noqa: E402
from tui.diagnostics.token import TokenCache  # noqa: E402


def measure(path: Path, jobs: int, runs: int) -> tuple[list[float], list[float], list[float]]:
    """(whole-run seconds, sum of tenant seconds, longest tenant seconds) per run."""
    walls, sums, longest = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        run = run_monitor(path, all_tenants=True, jobs=jobs, token_cache=TokenCache())
        walls.append(time.perf_counter() - t)
        own = [r.report.duration_ms / 1000 for r in run.results]
        assert all(r.state in ("OK", "CRITICAL") for r in run.results), [r.summary() for r in run.results]
        sums.append(sum(own))
        longest.append(max(own))
    return walls, sums, longest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=12)
    ap.add_argument("--delay", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=2.0)
    args = ap.parse_args()
    n = args.tenants
    faults = {f"t{i:02d}": "slow-smtp" for i in range(n)}
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        with tenant_sandboxes(Path(tmp), faults, timeout=30.0, delay=args.delay) as fleet:
            run_monitor(fleet.path, all_tenants=True, jobs=n)  # warm-up: imports
            print(f"{n} tenants, every SMTP reply delayed {args.delay:g} s; median of {args.runs} runs")
            print(f"{'jobs':>5} {'whole run':>10} {'sum of tenants':>15} {'longest tenant':>15} "
                  f"{'ideal ceil(n/jobs) x longest':>29}")
            for jobs in sorted({1, 4, n}):
                walls, sums, longest = measure(fleet.path, jobs, args.runs)
                ideal = math.ceil(n / jobs) * med(longest)
                print(f"{jobs:>5} {med(walls):>9.2f}s {med(sums):>14.2f}s {med(longest):>14.2f}s {ideal:>28.2f}s")
    faults = {**{f"t{i:02d}": None for i in range(n)}, "silent": "silent-server"}
    with tempfile.TemporaryDirectory() as tmp:
        with tenant_sandboxes(Path(tmp), faults, timeout=args.timeout) as fleet:
            walls, others = [], []
            for _ in range(args.runs):
                t = time.perf_counter()
                run = run_monitor(fleet.path, all_tenants=True, jobs=n + 1, token_cache=TokenCache())
                walls.append(time.perf_counter() - t)
                others.append(max(r.finished - run.started for r in run.results if r.tenant != "silent"))
            print(f"{n} healthy tenants + 1 silent server, timeout_seconds {args.timeout:g}: whole run "
                  f"{med(walls):.2f} s, the last healthy tenant done after {med(others):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
