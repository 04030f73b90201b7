"""Broadcast benchmark: `hfweekly publish` to 5,000 subscribers of the fake Telegram.

    python -m bench.broadcast [--subscribers 5000] [--skip-limited]

(a) Flood control: the fake Telegram answers 429 past 30 messages a second, as Telegram does, and
    the publisher runs with its limiter (broadcast_rate 29/s): achieved rate, and 429s (must be 0).
    Bar: >= 27 messages/s with zero 429s.
(b) The engine alone: limiter off, the fake's limit and its HTML validation off. Messages per
    second from the first message to the last, and the publisher process's peak memory (max RSS).
    Bar: >= 500 messages/s and <= 200 MB.

The publisher is the real `hfweekly publish` in its own process; the fakes run in this process, on
the other core. The digest is built (cold, fast fake Claude) before the timed window starts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis

from bench.common import bot_env, drop_keys
from bot.models import ChatKind, Subscription
from bot.store import Store
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, week_items
from tests.fakes.telegram import FakeTelegram

WEEK = "2025-W38"
FIRST = 100_000


async def scenario(subscribers: int, limited: bool, profile: str | None = None) -> dict[str, float]:
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    prefix = f"hfwbench-{uuid.uuid4().hex[:8]}"
    tg, hf, claude = FakeTelegram(), FakeHF(), FakeClaude()
    hf.weeks[WEEK] = week_items(WEEK)
    if limited:
        tg.flood_limit = 30
    else:
        tg.validate_html = False
    for server in (tg, hf, claude):
        await server.start()
    redis = Redis.from_url(redis_url, decode_responses=True)
    store = Store(redis, prefix=prefix)
    now = datetime.now(UTC)
    for user in range(FIRST, FIRST + subscribers):
        tg.add_chat(user, "private")
    for user in range(FIRST, FIRST + subscribers):
        await store.save_subscription(Subscription(user, ChatKind.PRIVATE, f"user {user}", True, now, now))
    env = bot_env(tg, hf, claude, redis_url, prefix) | {"HFWEEKLY_BROADCAST_RATE": "29" if limited else "0"}
    try:
        warm = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "digest", WEEK, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        assert await warm.wait() == 0
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *(["-m", "cProfile", "-o", profile] if profile else []), "-m", "bot", "publish", WEEK,
            env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, cwd=Path.cwd(),
        )  # fmt: skip
        out, err = await proc.communicate()
        if proc.returncode or os.environ.get("BENCH_DEBUG"):
            print(out.decode(), err.decode()[-2000:], file=sys.stderr)
        wall = time.monotonic() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        sends = [s.at for s in tg.sent if s.method == "sendMessage"]
        window = max(sends) - min(sends) if len(sends) > 1 else float("nan")
        chats = len({s.chat_id for s in tg.sent})
        return {
            "exit": float(proc.returncode or 0),
            "messages": float(len(sends)),
            "chats": float(chats),
            "rate": (len(sends) - 1) / window,
            "wall": wall,
            "too_many": float(tg.too_many),
            "peak_mb": peak_kb / 1024 if peak_kb > before else float("nan"),
            "report": 0.0 if b"failed 0" in out else 1.0,
        }
    finally:
        await drop_keys(redis, prefix)
        await redis.aclose()
        for server in (tg, hf, claude):
            await server.stop()


async def run(subscribers: int, skip_limited: bool, profile: str | None) -> None:
    rows = []
    if not skip_limited:
        rows.append(("(a) limiter on, fake enforces 30/s", await scenario(subscribers, limited=True)))
    rows.append(("(b) limiter off, fake limit off", await scenario(subscribers, limited=False, profile=profile)))
    print(f"`hfweekly publish` of {WEEK} to {subscribers} subscribers (1 message each)")
    print()
    print("| scenario | messages | chats | rate | 429s | publish wall time | peak RSS | bar | result |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        if label.startswith("(a)"):
            bar, ok = "≥ 27/s, 0 × 429", r["rate"] >= 27 and r["too_many"] == 0
        else:
            bar, ok = "≥ 500/s, ≤ 200 MB", r["rate"] >= 500 and r["peak_mb"] <= 200
        ok = ok and r["exit"] == 0 and r["chats"] == subscribers
        print(
            f"| {label} | {r['messages']:.0f} | {r['chats']:.0f} | {r['rate']:.1f}/s | {r['too_many']:.0f} | "
            f"{r['wall']:.1f} s | {r['peak_mb']:.0f} MB | {bar} | {'pass' if ok else 'FAIL'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--skip-limited", action="store_true", help="only (b): (a) takes about 3 minutes")
    parser.add_argument("--profile", metavar="FILE", help="run the (b) publisher under cProfile, writing FILE")
    args = parser.parse_args()
    asyncio.run(run(args.subscribers, args.skip_limited, args.profile))


if __name__ == "__main__":
    main()
