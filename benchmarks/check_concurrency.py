#!/usr/bin/env python
"""With latency on both sides, a check takes about the longer path (token, or SMTP up to STARTTLS), not their sum.

Runs the engine in-process against the sandbox (fresh token cache each run, so the token path always goes to the
network; a warm-up run first so imports are not counted):
  1. slow-token: every token-service answer delayed (the sandbox's fault);
  2. slow-smtp:  every SMTP reply delayed (the sandbox's fault);
  3. both:       slow-token, plus the same delay on every SMTP server->client segment through a small TCP relay
                 (the sandbox switches one fault at a time, so the SMTP side's latency comes from the relay).
For each: the token path (token step), the SMTP path (connect start to starttls end), their sum, and the whole run.

    python benchmarks/check_concurrency.py [--delay 0.5] [--runs 3] [--relay-delay 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


async def relay(target_host: str, target_port: int, delay: float) -> tuple[asyncio.AbstractServer, int]:
    """A TCP relay that delivers every server->client segment `delay` seconds after it arrived (order kept)."""

    async def handle(creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        sreader, swriter = await asyncio.open_connection(target_host, target_port)
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def up() -> None:
            while data := await creader.read(65536):
                swriter.write(data)
                await swriter.drain()
            swriter.close()

        async def down_read() -> None:
            while data := await sreader.read(65536):
                queue.put_nowait((loop.time() + delay, data))
            queue.put_nowait((loop.time() + delay, b""))

        async def down_write() -> None:
            while True:
                at, data = await queue.get()
                await asyncio.sleep(max(0.0, at - loop.time()))
                if not data:
                    cwriter.close()
                    return
                cwriter.write(data)
                await cwriter.drain()

        tasks = [asyncio.create_task(c()) for c in (up, down_read, down_write)]
        try:
            await asyncio.gather(*tasks)
        except (Exception, asyncio.CancelledError):
            pass
        finally:
            for t in tasks:
                t.cancel()
            cwriter.close()
            swriter.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def paths(report) -> tuple[float, float, float, float]:
    """(token path, SMTP path to STARTTLS, the common tail auth + quit, the whole run), in ms."""
    token = report.step("token")
    connect, starttls = report.step("connect"), report.step("starttls")
    token_ms = token.duration_ms or 0.0
    smtp_ms = (starttls.started_ms + starttls.duration_ms) - connect.started_ms
    tail_ms = (report.step("auth").duration_ms or 0.0) + (report.step("quit").duration_ms or 0.0)
    return token_ms, smtp_ms, tail_ms, report.duration_ms


async def main_async(delay: float, runs: int, relay_delay: float) -> int:
    from tui.diagnostics.engine import diagnose
    from tui.diagnostics.text import report_text
    from tui.diagnostics.token import TokenCache
    from tui.sandbox import Sandbox
    from tui.settings.store import load_settings

    with Sandbox(delay_seconds=delay) as sb:
        base = load_settings(sb.info.settings_path, env={}).with_changes(timeout_seconds=30.0)
        warm = await diagnose(base, token_cache=TokenCache())
        assert warm.ok, report_text(warm)
        server, relay_port = await relay(sb.info.smtp_host, sb.info.smtp_port, relay_delay)
        scenarios = [
            ("slow-token", "slow-token", base),
            ("slow-smtp", "slow-smtp", base),
            ("both", "slow-token", base.with_changes(port=relay_port)),
        ]
        print(f"sandbox delay {delay:.2f} s per answer/reply, relay delay {relay_delay:.2f} s per segment (both); "
              f"median of {runs} runs; in-process engine, loopback sandbox")
        print("sequential = token + SMTP-to-STARTTLS + auth/quit (what a one-step-after-another client takes);")
        print("concurrent bound = max(token, SMTP-to-STARTTLS) + auth/quit")
        print(f"{'latency on':<11} {'token':>8} {'SMTP':>8} {'auth+quit':>9} {'sequential':>10} {'bound':>8} "
              f"{'whole run':>9}  {'run/bound':>9} {'run/seq':>7}")
        verdict = 0
        for label, fault, settings in scenarios:
            sb.set_fault(fault)
            rows = []
            for _ in range(runs):
                report = await diagnose(settings, token_cache=TokenCache())
                assert report.ok, report_text(report)
                rows.append(paths(report))
            sb.set_fault(None)
            tok, smtp, tail, total = (statistics.median(r[i] for r in rows) for i in range(4))
            seq = tok + smtp + tail
            bound = max(tok, smtp) + tail
            print(f"{label:<11} {tok:5.0f} ms {smtp:5.0f} ms {tail:6.0f} ms {seq:7.0f} ms {bound:5.0f} ms "
                  f"{total:6.0f} ms  {total / bound:9.2f} {total / seq:7.2f}")
            if label == "both" and total > (bound + seq) / 2:
                verdict = 1
        server.close()
        print("the whole run tracks the longer path, not the sum" if verdict == 0 else
              "WARNING: the whole run is closer to the sequential sum than to the longer path")
        return verdict


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=0.5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--relay-delay", type=float, default=None,
                    help="SMTP latency of the 'both' scenario (default: delay / 2, so both paths are similar)")
    args = ap.parse_args()
    relay_delay = args.delay / 2 if args.relay_delay is None else args.relay_delay
    return asyncio.run(main_async(args.delay, args.runs, relay_delay))


if __name__ == "__main__":
    raise SystemExit(main())
