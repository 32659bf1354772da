"""The key pacer's cost: keys that arrive in one burst, paced (tui.console.keys) against Textual's own dispatch.

The console headless at 80x24 (`app.run_test`) on a copy of settings.example.toml. A burst of N printable keys is
posted to the app at once, as the terminal driver posts what it parsed from one read (typing ahead over SSH,
a paste without bracketed paste), with the Server field focused; the clock stops when the field holds all N
characters and the app has validated that value (every key is validated as typed, paced or not). Each round measures both in the same process, in alternating order:

- paced: the console as shipped (each key handed out once the one before has been handled);
- baseline: the same console with the pacer bypassed (Textual hands every key to the focused widget at once).

Also measured, paced only: a burst of Tab + "77" repeated, where the baseline puts keys in the wrong field.

    python benchmarks/keys.py [--rounds 7] [--keys 200]

Goal: per key, the pacer adds well under a frame (< 1 ms per key, so 200 keys typed ahead show in < 1/5 s more).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual import events  # noqa: E402
from textual.widgets import Input  # noqa: E402

from tui.console.launch import build_app  # noqa: E402


def console(folder: Path):
    """The console on a fresh copy of settings.example.toml."""
    path = folder / "settings.toml"
    shutil.copy(ROOT / "settings.example.toml", path)
    return build_app(path)


async def burst(paced: bool, n: int, folder: Path) -> float:
    app = console(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.form_ready.wait()
        await pilot.pause()
        field = app.query_one("#f-host", Input)
        field.focus()
        field.value = ""
        await pilot.pause()
        if not paced:
            app.keys.holds = lambda event: False  # type: ignore[method-assign]
        text = "abcdefghijklmnopqrstuvwxyz0123456789" * (n // 36 + 1)
        keys = [events.Key(c, c) for c in text[:n]]
        started = time.perf_counter()
        for key in keys:
            app.post_message(key)
        while app.current_settings.host != text[:n]:  # the form has read the field, the app has validated it
            await asyncio.sleep(0.0005)
        took = time.perf_counter() - started
        assert field.value == text[:n], "keys were lost or reordered"
        return took


async def tabbing(n: int, folder: Path) -> tuple[float, str]:
    """Tab, 7, 7 from Protocol: paced, Port ends up 77; returns the time and Port's value."""
    app = console(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.form_ready.wait()
        await pilot.pause()
        started = time.perf_counter()
        for key in (events.Key("tab", "\t"), events.Key("tab", "\t"), events.Key("7", "7"), events.Key("7", "7")):
            app.post_message(key)
        while app.keys.pending or app.query_one("#f-port", Input).value != "77":
            await asyncio.sleep(0.0005)
            if time.perf_counter() - started > 5:
                break
        await app.keys.idle()
        took = time.perf_counter() - started
        return took, app.query_one("#f-port", Input).value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keys", type=int, default=200)
    args = parser.parse_args()
    paced_ms: list[float] = []
    base_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.rounds):
            order = (True, False) if i % 2 == 0 else (False, True)
            for paced in order:
                took = asyncio.run(burst(paced, args.keys, folder)) * 1000
                (paced_ms if paced else base_ms).append(took)
            print(f"round {i + 1}: paced {paced_ms[-1]:7.1f} ms  baseline {base_ms[-1]:7.1f} ms", flush=True)
        tab_s, port = asyncio.run(tabbing(args.keys, folder))
        tab_ms = tab_s * 1000
    p, b = statistics.median(paced_ms), statistics.median(base_ms)
    per_key = (p - b) / args.keys
    print(f"{args.keys} keys in one burst: paced median {p:.1f} ms, baseline median {b:.1f} ms, ratio {p / b:.2f}; "
          f"the pacer adds {per_key:.3f} ms per key (goal < 1 ms)")
    print(f"Tab Tab 7 7 from Protocol, paced: Port = {port!r} after {tab_ms:.1f} ms")
    return 0 if per_key < 1.0 and port == "77" else 1


if __name__ == "__main__":
    raise SystemExit(main())
