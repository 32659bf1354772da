#!/usr/bin/env python
"""The whole test suite's wall time: serially (one process, `-p no:xdist`) and in parallel (pytest-xdist,
`-n N --dist loadgroup`, as `scripts/test` runs it), measured in the same run, one after the other, so both meet the
same machine. Goal (issue 11): parallel <= 120 s on the 2-core CI machine, every test passing both ways.

    python benchmarks/suite_time.py [--workers 4] [--rounds 1] [--json] [pytest args, e.g. tests/verdict]

`--workers 2,3,4,6` measures each count (serial once per round) to choose scripts/test's default. Each run is the
suite as CI runs it (`python -m pytest -q -p no:cacheprovider`), so it needs what the suite needs (root for Postfix,
tmux, Java); a run that does not pass is reported as failed, and its time is not a figure. On a machine shared with
other work the absolute times are noisy; the ratio of runs made side by side is the figure to compare.
Prints one line per run (seconds, the pytest summary), then the medians and the ratio serial / parallel.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_suite(workers: int, extra: list[str]) -> tuple[float, bool, str]:
    """(wall seconds, passed, pytest's summary line and the ids of failed tests) of one whole run; `workers` 0 is
    serial."""
    parallel = ["-n", str(workers), "--dist", "loadgroup"] if workers else ["-p", "no:xdist"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *parallel, *extra]
    t = time.perf_counter()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    lines = [ln.strip("= ") for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    summary = lines[-1] if lines else f"exit {proc.returncode}, no summary"
    failed = [ln.split(" - ")[0] for ln in proc.stdout.splitlines() if ln.startswith(("FAILED ", "ERROR "))]
    if failed:
        summary += "; " + ", ".join(failed)
    return wall, proc.returncode == 0, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="4", help="xdist workers, or a comma-separated list to compare")
    ap.add_argument("--rounds", type=int, default=1, help="serial + parallel runs, alternated")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args, extra = ap.parse_known_args()
    counts = [int(n) for n in args.workers.split(",")]
    times: dict[int, list[float]] = {0: [], **{n: [] for n in counts}}
    failed = []
    for r in range(args.rounds):
        for n in [0, *counts]:
            wall, ok, summary = run_suite(n, extra)
            label = "serial" if n == 0 else f"-n {n}"
            print(f"round {r + 1}  {label:>8}: {wall:7.1f} s  {'ok' if ok else 'FAILED'}  ({summary})", flush=True)
            if ok:
                times[n].append(wall)
            else:
                failed.append((label, summary))
    figures = {"serial_s": statistics.median(times[0]) if times[0] else None}
    for n in counts:
        if times[n]:
            figures[f"n{n}_s"] = statistics.median(times[n])
            if times[0]:
                figures[f"n{n}_ratio"] = figures["serial_s"] / figures[f"n{n}_s"]
    for n in counts:
        if f"n{n}_ratio" in figures:
            print(f"serial {figures['serial_s']:.1f} s / -n {n} {figures[f'n{n}_s']:.1f} s = "
                  f"{figures[f'n{n}_ratio']:.2f}x")
    if args.json:
        print(json.dumps({**figures, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
