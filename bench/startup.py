"""Process start: how long `hfweekly` takes from exec to exit, median of 5 runs each.

    python -m bench.startup [--runs 5]

- `hfweekly --help`. Bar: <= 0.3 s.
- `hfweekly subscribers list` (100 subscriptions in the real Redis). Bar: <= 0.6 s.
- a warm `hfweekly digest 2025-W38`: every translation already cached in Redis (one cold run first,
  untimed, against the local fakes of Hugging Face and Claude). Bar: <= 1.0 s end to end.

Each run is a new `python -m bot` process, as the console script starts it; max RSS is GNU time's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time

from bench.common import WEEK, World


async def timed(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall seconds and max RSS (MB) of one `hfweekly ARGS` process."""
    with tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            "/usr/bin/time", "-o", peak.name, "-f", "%M", sys.executable, "-m", "bot", *args, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await proc.communicate()
        elapsed = time.perf_counter() - started
        if proc.returncode:
            raise RuntimeError(f"hfweekly {' '.join(args)} exited {proc.returncode}: {err.decode()[-500:]}")
        return elapsed, float(peak.read().split()[-1]) / 1024


async def run(runs: int) -> None:
    rows = []
    async with World() as world:
        await world.subscribe(range(1000, 1100))
        env = world.env()
        await timed(env, "digest", WEEK)  # cold: fills the cache
        for label, args, bar in (
            ("`hfweekly --help`", ["--help"], 0.3),
            ("`hfweekly subscribers list` (100 chats)", ["subscribers", "list"], 0.6),
            (f"`hfweekly digest {WEEK}`, warm", ["digest", WEEK], 1.0),
        ):
            results = [await timed(env, *args) for _ in range(runs)]
            rows.append((label, [r[0] for r in results], max(r[1] for r in results), bar))
    print(f"process start to exit, median of {runs} runs (a new `python -m bot` process each)")
    print()
    print("| command | median | min | max | max RSS | bar | result |")
    print("|---|---|---|---|---|---|---|")
    for label, times, rss, bar in rows:
        median = statistics.median(times)
        print(
            f"| {label} | {median:.2f} s | {min(times):.2f} s | {max(times):.2f} s | {rss:.0f} MB | ≤ {bar} s | "
            f"{'pass' if median <= bar else 'FAIL'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.runs))


if __name__ == "__main__":
    main()
