"""/week latency benchmark, through python-telegram-bot's handlers (the one path every update takes).

    python -m bench.week_query [--rate 100] [--seconds 10] [--users 1000] [--burst 300]

The bot is the real `hfweekly run` in its own process, long polling the fake Telegram; the fakes
(Telegram, Hugging Face, Claude) run in this process, on the other core. Each update is timed from
the moment getUpdates hands it to the bot to the moment the bot's reply reaches the fake. The cache
is warmed by one /week first; the Claude and Hugging Face calls made afterwards are counted (must be 0).

(a) steady arrivals: `rate` /week a second for `seconds` s, each from another of `users` people;
    p50 and p99. Bar: p99 <= 50 ms.
(b) the bot's CPU per cached /week reply during (a) (its process's user+system time / replies).
    Bar: <= 1.5 ms (600 replies a second per core, twenty times what Telegram accepts from a bot).
(c) a burst of `burst` /week at once: p50 and p99, reported without a bar.

The bot runs with HFWEEKLY_SEND_RATE=0: this measures the bot's own work per reply. Telegram accepts
about 30 messages a second from one bot, so with the limiter on (as in production) replies beyond
that wait their turn: `python -m bench.broadcast` measures replies under the limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time

from bench.common import WEEK, World, percentile, process_cpu
from tests.fakes.telegram import FakeTelegram

FIRST_USER = 10_000


async def arrivals(tg: FakeTelegram, users: list[int], spread: float) -> dict[int, int]:
    """Each user sends `/week WEEK`, evenly over `spread` seconds (0: all at once); update id -> user."""
    ids: dict[int, int] = {}
    started = time.monotonic()
    for n, user in enumerate(users):
        if spread:
            await asyncio.sleep(max(0.0, started + n * spread / len(users) - time.monotonic()))
        ids[tg.message(user, user, f"/week {WEEK}")] = user
    return ids


async def measure(tg: FakeTelegram, pid: int, users: list[int], spread: float) -> tuple[list[float], float]:
    """Latencies (ms) of one round, and the bot's CPU per reply (ms)."""
    before, cpu = len(tg.sent), process_cpu(pid)
    ids = await arrivals(tg, users, spread)
    await tg.wait_for(lambda: len({s.chat_id for s in tg.sent[before:]}) >= len(users), within=120)
    cpu_per_reply = (process_cpu(pid) - cpu) / len(users) * 1000
    first_reply: dict[int, float] = {}
    for sent in tg.sent[before:]:
        first_reply.setdefault(sent.chat_id, sent.at)
    return [(first_reply[user] - tg.delivered_at[uid]) * 1000 for uid, user in ids.items()], cpu_per_reply


async def run(rate: float, seconds: float, users: int, burst: int, profile: str | None) -> None:
    async with World() as world:
        tg, hf, claude = world.tg, world.hf, world.claude
        for user in range(FIRST_USER, FIRST_USER + max(users, burst) + 1):
            tg.add_chat(user, "private")
        # No scheduled publish while measuring; no send limit (see the docstring).
        env = world.env() | {"HFWEEKLY_SEND_RATE": "0", "HFWEEKLY_SCHEDULE": "0 9 1 1 *", "HFWEEKLY_CATCH_UP": "1m"}
        profiler = ["-m", "cProfile", "-o", profile] if profile else []
        proc = await asyncio.create_subprocess_exec(sys.executable, *profiler, "-m", "bot", "run", env=env)
        try:
            await tg.wait_for(lambda: bool(tg.commands), within=30)  # the bot is up
            tg.message(FIRST_USER - 1, FIRST_USER - 1, f"/week {WEEK}")  # one cold build
            await tg.wait_for(lambda: any(s.method == "editMessageText" for s in tg.sent), within=60)
            calls, hf_calls = claude.calls, len(hf.requests)
            steady_users = [FIRST_USER + (n % users) for n in range(int(rate * seconds))]
            steady, cpu = await measure(tg, proc.pid, steady_users, seconds)
            bursty, burst_cpu = await measure(tg, proc.pid, list(range(FIRST_USER, FIRST_USER + burst)), 0.0)
            calls, hf_calls = claude.calls - calls, len(hf.requests) - hf_calls
        finally:
            proc.send_signal(signal.SIGINT)  # a clean stop (the profiler writes its file)
            await proc.wait()

    print(f"/week {WEEK} through python-telegram-bot's handlers; bot = `hfweekly run` subprocess (send limit off)")
    print()
    print("| round | arrivals | replies | p50 | p99 | max | bot CPU per reply | Claude / HF calls | bar | result |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = [
        ("(a)+(b)", f"{rate:.0f}/s for {seconds:.0f} s, {users} users", steady, cpu, "p99 ≤ 50 ms; CPU ≤ 1.5 ms"),
        ("(c)", f"burst of {burst}", bursty, burst_cpu, "reported"),
    ]
    for label, arrival, lat, cpu_ms, bar in rows:
        p99 = percentile(lat, 0.99)
        ok = calls == hf_calls == 0 and (label == "(c)" or (p99 <= 50 and cpu_ms <= 1.5))
        print(
            f"| {label} | {arrival} | {len(lat)} | {statistics.median(lat):.1f} ms | {p99:.1f} ms | {max(lat):.1f} ms | "
            f"{cpu_ms:.2f} ms | {calls} / {hf_calls} | {bar} | {'pass' if ok else 'FAIL'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="steady /week a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--profile", metavar="FILE", help="run the bot under cProfile, writing FILE")
    args = parser.parse_args()
    asyncio.run(run(args.rate, args.seconds, args.users, args.burst, args.profile))


if __name__ == "__main__":
    main()
