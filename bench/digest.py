"""Digest build benchmark: cold (10 papers, the fake Claude answering after 1 s each) and warm.

    python -m bench.digest [--delay 1.0] [--runs 3]

Real HTTP to the local fakes of Hugging Face and Claude, the real Redis at REDIS_URL (default
redis://127.0.0.1:6379/15, keys under a throwaway prefix, deleted afterwards). Prints a table.
Bars (issue 2): cold <= 2.5 s (the old script, one call after another: >= 10 s); warm <= 0.2 s, 0 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

from pydantic import SecretStr
from redis.asyncio import Redis

from bench.common import drop_keys
from bot.app import App, open_app
from bot.config import Settings
from bot.week import IsoWeek
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, week_items

WEEK = IsoWeek(2025, 38)


async def run(delay: float, runs: int) -> None:
    # The translator imports the anthropic SDK at its first question to Claude (about a second): a
    # cost of starting a process, which `python -m bench.startup` measures. Here the build is timed.
    import anthropic  # noqa: F401

    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    hf, claude = FakeHF(), FakeClaude()
    hf.weeks[str(WEEK)] = week_items(str(WEEK))
    claude.delay = delay
    await hf.start()
    await claude.start()
    rows: list[tuple[str, float, int, int]] = []
    prefixes: list[str] = []

    async def measure(label: str, app: App) -> None:
        calls, hf_calls = claude.calls, len(hf.requests)
        started = time.perf_counter()
        digest = await app.digests.build(WEEK)
        elapsed = time.perf_counter() - started
        assert len(digest.items) == 10 and not digest.pending
        rows.append((label, elapsed, claude.calls - calls, len(hf.requests) - hf_calls))

    try:
        for _ in range(runs):
            prefixes.append(f"hfwbench-{uuid.uuid4().hex[:8]}")
            settings = Settings(
                anthropic_api_key=SecretStr("bench-key"),
                anthropic_base_url=claude.url,
                redis_url=redis_url,
                hf_base_url=hf.url,
                redis_prefix=prefixes[-1],
            )
            async with open_app(settings) as app:
                await measure("cold", app)
                await measure("warm (same process)", app)
            async with open_app(settings) as app:  # new clients, as a new `hfweekly digest` would have
                await measure("warm (new clients)", app)
    finally:
        client = Redis.from_url(redis_url, decode_responses=True)
        await drop_keys(client, *prefixes)
        await client.aclose()
        await hf.stop()
        await claude.stop()

    bars = {"cold": 2.5, "warm (same process)": 0.2, "warm (new clients)": 0.2}
    print(f"digest build, 10 papers of {WEEK}, fake Claude delay {delay:.1f} s, {runs} runs, Redis {redis_url}")
    print()
    print("| build | wall time (median) | wall time (max) | Claude calls | HF calls | bar | result |")
    print("|---|---|---|---|---|---|---|")
    for label, bar in bars.items():
        mine = [r for r in rows if r[0] == label]
        times = [r[1] for r in mine]
        calls = {r[2] for r in mine}
        hf_calls = {r[3] for r in mine}
        expected = ({10}, {1}) if label == "cold" else ({0}, {0})  # cold: one call per paper, one HF page
        ok = max(times) <= bar and (calls, hf_calls) == expected
        extra = ", 10 + 1 calls" if label == "cold" else ", 0 calls"
        print(
            f"| {label} | {statistics.median(times):.3f} s | {max(times):.3f} s | "
            f"{'/'.join(map(str, sorted(calls)))} | {'/'.join(map(str, sorted(hf_calls)))} | "
            f"≤ {bar} s{extra} | {'pass' if ok else 'FAIL'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds the fake Claude takes per answer")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.delay, args.runs))


if __name__ == "__main__":
    main()
