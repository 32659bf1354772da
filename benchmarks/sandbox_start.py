"""How long `Sandbox.start()` takes (CA and certificates, the RSA signing key, both listeners): prints the median.

    python benchmarks/sandbox_start.py [RUNS]

The issue asks for under one second. Tests assert nothing about timing; run this instead.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.sandbox import Sandbox  # noqa: E402


def main(runs: int = 10) -> int:
    starts, stops = [], []
    for _ in range(runs):
        sb = Sandbox()
        t0 = time.perf_counter()
        sb.start()
        t1 = time.perf_counter()
        sb.stop()
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        stops.append(t2 - t1)
    print(f"sandbox start: median {statistics.median(starts) * 1000:.0f} ms, max {max(starts) * 1000:.0f} ms "
          f"({runs} runs); stop: median {statistics.median(stops) * 1000:.0f} ms")
    return 0 if statistics.median(starts) < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
