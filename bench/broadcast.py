"""Broadcast benchmark: a week's digest to 5,000 subscribers of the fake Telegram.

    python -m bench.broadcast [--subscribers 5000] [--askers 50] [--paid-chats 100000] [--only a,b,c,d]

(a) Flood control: the fake Telegram answers 429 past 30 messages a second, as Telegram does, and
    `hfweekly publish` runs with its limiter (send_rate 29/s): achieved rate, and 429s.
    Bar: >= 28 messages/s with zero 429s.
(b) The engine alone: limits off, the fake's limit and its HTML validation off. Messages per
    second from the first message to the last, and the publisher process's peak memory (max RSS).
    Bar: >= 900 messages/s and <= 200 MB.
(c) Replies during a broadcast: `hfweekly run` publishes the week at its scheduled time (limiter on,
    the fake enforcing 30/s), and meanwhile `askers` people send /week, spread over 10 s. Each reply is
    timed from getUpdates handing the update out to the reply reaching the fake.
    Bar: every reply arrives, p99 <= 2 s, zero 429s (the limiter paces replies and broadcast together,
    replies first).
(d) Paid broadcasts: `hfweekly publish` with HFWEEKLY_PAID_BROADCAST=true to `--paid-chats` (100,000)
    private chats, the fake Telegram enforcing 1,000 messages a second for paid sends (and 30 for the
    others), its HTML checks off; on a Redis server of the benchmark's own, so that its memory is the
    run's. Messages per second, 429s, the publisher's peak RSS, and the Redis memory the week's ledger
    takes (MEMORY USAGE of its hash, and INFO used_memory before and after the run: everything the
    run wrote), per 100,000 chats. Bar: >= 900 messages/s, zero 429s, <= 250 MB.

The bot is the real `hfweekly` in its own process; the fakes run in this process, on the other core.
The digest is built (cold, fast fake Claude) before the timed window starts.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.common import WEEK, World, own_redis, percentile, run_publish
from bot.config import Settings
from bot.models import ChatKind, Subscription
from bot.week import IsoWeek

FIRST = 100_000
FIRST_ASKER = 900_000

Row = dict[str, float]


def limited(world: World, on: bool) -> World:
    """The fake Telegram enforcing 30 messages a second (as Telegram does), or checking nothing."""
    if on:
        world.tg.flood_limit = 30
    else:
        world.tg.validate_html = False
    return world


async def warm(world: World, subscribers: int, week: str) -> dict[str, str]:
    """Subscribers in Redis, the week's digest built (cold, fast fake Claude); the bot's environment."""
    world.hf.weeks[week] = world.hf.weeks[WEEK]
    await world.subscribe(range(FIRST, FIRST + subscribers))
    env: dict[str, str] = world.env()
    build = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "digest", week, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await build.wait() == 0
    return env


def rate(world: World) -> float:
    sends = [s.at for s in world.tg.sent if s.method == "sendMessage" and s.chat_id < FIRST_ASKER]
    return (len(sends) - 1) / (max(sends) - min(sends)) if len(sends) > 1 else float("nan")


async def publish(subscribers: int, pace: bool) -> Row:
    async with World() as world:
        env = await warm(limited(world, pace), subscribers, WEEK) | {"HFWEEKLY_SEND_RATE": "29" if pace else "0"}
        started = time.monotonic()
        status, _, _, peak_mb = await run_publish(env, WEEK)
        return {
            "exit": float(status),
            "messages": float(sum(s.method == "sendMessage" for s in world.tg.sent)),
            "chats": float(len({s.chat_id for s in world.tg.sent})),
            "rate": rate(world),
            "wall": time.monotonic() - started,
            "too_many": float(world.tg.too_many),
            "peak_mb": peak_mb,
        }


async def paid_broadcast(chats: int, paid_rate: float) -> Row:
    server, url = await own_redis()
    try:
        async with World(redis_url=url) as world:
            world.tg.validate_html = False  # the sender is measured, not the fake
            world.tg.flood_limit, world.tg.paid_flood_limit = 30, 1000
            now = datetime.now(UTC)
            rows = [(Subscription(c, ChatKind.PRIVATE, f"user {c}", True, now, now), None)
                    for c in range(FIRST, FIRST + chats)]  # fmt: skip
            for chat in range(FIRST, FIRST + chats):
                world.tg.add_chat(chat, "private")
            await world.store.save_chats(rows)
            env = await warm(world, 0, WEEK) | {
                "HFWEEKLY_SEND_RATE": "29", "HFWEEKLY_PAID_BROADCAST": "true", "HFWEEKLY_PAID_RATE": str(paid_rate)
            }  # fmt: skip
            before = (await world.redis.info("memory"))["used_memory"]
            started = time.monotonic()
            status, _, _, peak_mb = await run_publish(env, WEEK)
            wall = time.monotonic() - started
            after = (await world.redis.info("memory"))["used_memory"]
            ledger = await world.redis.memory_usage(f"{world.prefix}:ledger:{WEEK}", samples=0) or 0
            sends = [s for s in world.tg.sent if s.method == "sendMessage"]
            return {
                "exit": float(status), "messages": float(len(sends)), "chats": float(len({s.chat_id for s in sends})),
                "paid": float(sum(s.paid for s in sends)), "counted": float(await world.store.paid_count(WEEK)),
                "rate": rate(world), "wall": wall, "too_many": float(world.tg.too_many), "peak_mb": peak_mb,
                "ledger_mb": ledger / 2**20 * 100_000 / chats, "written_mb": (after - before) / 2**20 * 100_000 / chats,
            }  # fmt: skip
    finally:
        server.terminate()
        await server.wait()


async def replies_during_broadcast(subscribers: int, askers: int) -> tuple[Row, list[float]]:
    week = str(IsoWeek.last_completed(datetime.now(UTC), ZoneInfo("Asia/Seoul")))  # what a scheduled run owes
    async with World() as world:
        env = await warm(limited(world, True), subscribers, week)
        env |= {"HFWEEKLY_SEND_RATE": "29", "HFWEEKLY_SCHEDULE": "* * * * *"}
        tg = world.tg
        started = time.monotonic()
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env)
        try:
            await tg.wait_for(lambda: len(tg.sent) >= 150, within=60)  # the broadcast is under way
            ids: dict[int, int] = {}
            for user in range(FIRST_ASKER, FIRST_ASKER + askers):
                await asyncio.sleep(10 / askers)
                ids[tg.message(user, user, f"/week {week}")] = user
            await tg.wait_for(lambda: len({s.chat_id for s in tg.sent}) >= subscribers + askers, within=600)
            wall = time.monotonic() - started
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
        first_reply: dict[int, float] = {}
        for sent in tg.sent:
            first_reply.setdefault(sent.chat_id, sent.at)
        latencies = [
            (first_reply[user] - tg.delivered_at[uid]) * 1000 for uid, user in ids.items() if user in first_reply
        ]
        row = {"replies": float(len(latencies)), "rate": rate(world), "too_many": float(tg.too_many), "wall": wall,
               "chats": float(len({s.chat_id for s in tg.sent if s.chat_id < FIRST_ASKER}))}  # fmt: skip
        return row, latencies


async def run(subscribers: int, askers: int, only: set[str]) -> None:
    rows = []
    if "a" in only:
        rows.append(("(a) limiter on, fake enforces 30/s", await publish(subscribers, pace=True)))
    if "b" in only:
        rows.append(("(b) limits off, fake limit off", await publish(subscribers, pace=False)))
    if rows:
        print(f"`hfweekly publish` of {WEEK} to {subscribers} subscribers (1 message each)")
        print()
        print("| scenario | messages | chats | rate | 429s | publish wall time | peak RSS | bar | result |")
        print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        if label.startswith("(a)"):
            bar, ok = "≥ 28/s, 0 × 429", r["rate"] >= 28 and r["too_many"] == 0
        else:
            bar, ok = "≥ 900/s, ≤ 200 MB", r["rate"] >= 900 and r["peak_mb"] <= 200
        ok = ok and r["exit"] == 0 and r["chats"] == subscribers
        print(
            f"| {label} | {r['messages']:.0f} | {r['chats']:.0f} | {r['rate']:.1f}/s | {r['too_many']:.0f} | "
            f"{r['wall']:.1f} s | {r['peak_mb']:.0f} MB | {bar} | {'pass' if ok else 'FAIL'} |"
        )
    if "c" in only:
        r, lat = await replies_during_broadcast(subscribers, askers)
        ok = (
            r["replies"] == askers
            and r["chats"] == subscribers
            and r["too_many"] == 0
            and percentile(lat, 0.99) <= 2000
        )
        print()
        print(
            f"(c) `hfweekly run` publishes to {subscribers} subscribers at 29/s; {askers} people send /week meanwhile"
        )
        print()
        print("| replies arrived | p50 | p99 | max | broadcast rate | chats | 429s | wall time | bar | result |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {r['replies']:.0f} of {askers} | {statistics.median(lat):.0f} ms | {percentile(lat, 0.99):.0f} ms | "
            f"{max(lat):.0f} ms | {r['rate']:.1f}/s | {r['chats']:.0f} | {r['too_many']:.0f} | {r['wall']:.0f} s | "
            f"all arrive, p99 ≤ 2 s, 0 × 429 | {'pass' if ok else 'FAIL'} |"
        )


def print_paid(chats: int, paid_rate: float, r: Row) -> None:
    ok = r["rate"] >= 900 and r["too_many"] == 0 and r["peak_mb"] <= 250 and r["exit"] == 0 and r["chats"] == chats
    print()
    print(f"(d) `hfweekly publish` to {chats:,} chats as paid broadcasts (paid_rate {paid_rate:g}/s), the fake "
          "enforcing 1,000/s for paid sends")  # fmt: skip
    print()
    print("| chats | messages | sent as paid | counted for /status | rate | 429s | wall time | peak RSS | "
          "ledger (MEMORY USAGE) per 100,000 chats | used_memory grown per 100,000 chats | bar | result |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {r['chats']:,.0f} | {r['messages']:,.0f} | {r['paid']:,.0f} | {r['counted']:,.0f} | {r['rate']:,.0f}/s | "
        f"{r['too_many']:.0f} | {r['wall']:.1f} s | {r['peak_mb']:.0f} MB | {r['ledger_mb']:.1f} MB | "
        f"{r['written_mb']:.1f} MB | ≥ 900/s, 0 × 429, ≤ 250 MB | {'pass' if ok else 'FAIL'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--askers", type=int, default=50)
    parser.add_argument("--paid-chats", type=int, default=100_000, help="chats of (d)")
    parser.add_argument(
        "--paid-rate", type=float, default=Settings.model_fields["paid_rate"].default, help="HFWEEKLY_PAID_RATE of (d)"
    )
    parser.add_argument("--only", default="a,b,c,d", help="scenarios to run (a and c take about 3 minutes each)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    asyncio.run(run(args.subscribers, args.askers, only))
    if "d" in only:
        print_paid(args.paid_chats, args.paid_rate, asyncio.run(paid_broadcast(args.paid_chats, args.paid_rate)))


if __name__ == "__main__":
    main()
