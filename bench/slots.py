"""Slots benchmark: 100,000 subscriptions over the 168 weekly slots (30 % on the default slot), with
settings drawn from a realistic mix of forms, counts, English titles and topics.

    python -m bench.slots [--chats 100000] [--paced 1000] [--only a,b,c,d]

(a) A scheduler tick with nothing due: its time (median and max of 50) and what it asks Redis.
    Bar: <= 5 ms, and no subscription record read.
(b) A tick for a slot of 1,000 chats, and one for a slot of 100 (each publishes its slot, in-process,
    to the fake Telegram, limits off): every Redis command is seen with MONITOR on a Redis server of
    the benchmark's own, so the counts are exact. Bar: subscription records read = the chats due, no
    HGETALL of the subscriptions; commands proportional to the chats due.
(c)+(d) `hfweekly publish WEEK` (a process) to every chat, limits off and the fake's HTML checks off:
    renders per 1,000 chats (one per distinct view), messages per second from the first message to
    the last, and the publisher's peak RSS. Bars: >= 900 msg/s, <= 250 MB.
(e) The same publish with the limiter on and the fake enforcing 30 messages a second, to `--paced`
    chats (all 100,000 at 30/s would take about an hour). Bar: 0 x 429.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime

from pydantic import SecretStr
from redis.asyncio import Redis

from bench.common import World, own_redis, run_publish
from bot.app import broadcaster, open_app, telegram_bot, weekly_scheduler
from bot.config import Settings
from bot.models import DEFAULT_SLOT, ChatKind, ChatSettings, Form, Subscription
from bot.slots import ALL_SLOTS, due
from bot.week import IsoWeek
from tests.fakes.hf import twenty_papers, week_items
from tests.fakes.telegram import TOKEN

WEEK = IsoWeek(2025, 38)
BIG, SMALL = "2-10", "2-11"  # Wednesday 10:00 and 11:00 (Seoul): 1,000 and 100 chats
AT_BIG = datetime(2025, 9, 24, 1, 0, 30, tzinfo=UTC)  # Wednesday 10:00:30 Seoul, 2025-W39
AT_SMALL = datetime(2025, 9, 24, 2, 0, 30, tzinfo=UTC)
TOPIC_SETS = [("robot",), ("RL", "reinforcement learning"), ("diffusion", "확산"), ("agent", "에이전트"), ("LLM",)]
FIRST = 1_000_000


def fifty_papers() -> list[dict[str, object]]:
    """A week of 50 papers from the real weeks in tests/data (and twenty synthetic ones)."""
    items = [*week_items("2025-W37"), *week_items("2025-W38"), *week_items("2025-W39"), *twenty_papers()]
    for rank, item in enumerate(items):
        item["paper"]["upvotes"] = 1000 - rank
    return items


def chat_settings(rng: random.Random, slot: str) -> ChatSettings | None:
    day_hour = (None, None) if slot == DEFAULT_SLOT else (int(slot[0]), int(slot[2:]))
    form = rng.choices(list(Form), weights=(25, 60, 15))[0]
    count = rng.choices([None, 5, 20], weights=(60, 20, 20))[0]
    topics = rng.choice(TOPIC_SETS) if rng.random() < 0.3 else ()
    chosen = ChatSettings(count, day_hour[0], day_hour[1], form, rng.random() < 0.8, topics,
                          bool(topics) and rng.random() < 0.5)  # fmt: skip
    return None if chosen == ChatSettings() else chosen


def slots_for(chats: int) -> list[str]:
    """30 % default; 1,000 and 100 chats in BIG and SMALL (given room); the rest over the other slots."""
    slots = [DEFAULT_SLOT] * int(chats * 0.3)
    if chats >= 10_000:
        slots += [BIG] * 1000 + [SMALL] * 100
    others = [s for s in ALL_SLOTS if s not in (DEFAULT_SLOT, BIG, SMALL)]
    slots += [others[i % len(others)] for i in range(chats - len(slots))]
    return slots


async def populate(world: World, chats: int, first: int) -> Counter[str]:
    rng = random.Random(38)
    now = datetime(2025, 9, 1, tzinfo=UTC)
    rows = []
    for i, slot in enumerate(slots_for(chats)):
        chat = first + i
        world.tg.add_chat(chat, "private")
        settings = chat_settings(rng, slot)
        if settings is None and slot != DEFAULT_SLOT:
            settings = ChatSettings(day=int(slot[0]), hour=int(slot[2:]))
        rows.append((Subscription(chat, ChatKind.PRIVATE, f"user {chat}", True, now, now), settings))
    await world.store.save_chats(rows)
    return Counter(s.slot if s else DEFAULT_SLOT for _, s in rows)


def settings_of(world: World) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(TOKEN), telegram_api_base_url=f"{world.tg.url}/bot",
        anthropic_api_key=SecretStr("bench-key"), anthropic_base_url=world.claude.url, hf_base_url=world.hf.url,
        redis_url=world.redis_url, redis_prefix=world.prefix, send_rate=0, group_rate_per_minute=0, http_port=0,
        log_level="WARNING",
    )  # fmt: skip


class Monitor:
    """Every command Redis executes meanwhile (MONITOR), on a connection of its own."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.commands: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Monitor:
        ready = asyncio.Event()

        async def listen() -> None:
            async with self.redis.monitor() as monitor:
                ready.set()
                async for entry in monitor.listen():
                    self.commands.append(entry["command"])

        self._task = asyncio.create_task(listen())
        await ready.wait()
        await asyncio.sleep(0.2)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.5)  # the last commands reach the monitor
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.redis.aclose()

    def count(self, prefix: str) -> dict[str, int]:
        """Commands in all; subscription and settings records read (fields of HGET/HMGET); HGETALLs of them."""
        found = Counter[str]()
        for command in self.commands:
            words = command.split()
            if not words or words[0] in ("MONITOR", "PING"):
                continue
            found["commands"] += 1
            if len(words) > 1 and words[1] in (f"{prefix}:subs", f"{prefix}:chat_settings"):
                name = "subs" if words[1].endswith(":subs") else "settings"
                if words[0] in ("HGET", "HMGET"):
                    found[f"{name} read"] += len(words) - 2
                if words[0] == "HGETALL":
                    found[f"{name} HGETALL"] += 1
        return dict(found)


async def ticks(world: World, by_slot: Counter[str]) -> list[str]:
    lines = []
    async with open_app(settings_of(world), clock=lambda: AT_SMALL) as app, telegram_bot(app) as (bot, limiter):
        caster = broadcaster(app, bot, limiter)
        jobs = weekly_scheduler(app, bot, caster)
        await app.digests.build(WEEK, top_n=50)  # warm: the ticks measure the slots, not Claude
        for at in (AT_BIG, AT_SMALL):  # every other slot of the window has delivered its week already
            for week, slots in due(app.settings, at).items():
                await app.store.mark_slots_done(week, [s for s in slots if s not in (BIG, SMALL)])
        # (b) the 1,000-chat slot, then the 100-chat one
        rows = []
        for label, at, slot in (("1,000", AT_BIG, BIG), ("100", AT_SMALL, SMALL)):
            async with Monitor(Redis.from_url(world.redis_url, decode_responses=True)) as seen:
                started = time.perf_counter()
                reports = await jobs.run_due(at)
                seconds = time.perf_counter() - started
            counts = seen.count(world.prefix)
            sent = sum(r.sent for r in reports)
            rows.append((label, slot, by_slot[slot], sent, counts, seconds))
        # (a) nothing due
        times = []
        async with Monitor(Redis.from_url(world.redis_url, decode_responses=True)) as seen:
            reports = await jobs.run_due(AT_SMALL)
        idle = seen.count(world.prefix)
        for _ in range(50):
            started = time.perf_counter()
            assert await jobs.run_due(AT_SMALL) == []
            times.append((time.perf_counter() - started) * 1000)
    ok = statistics.median(times) <= 5 and not idle.get("subs read") and not idle.get("settings read")
    lines += [
        f"(a) a tick with nothing due ({sum(by_slot.values()):,} subscriptions, {len(by_slot)} slots in use)",
        "",
        "| median | max | Redis commands | subscription records read | bar | result |",
        "|---|---|---|---|---|---|",
        f"| {statistics.median(times):.2f} ms | {max(times):.2f} ms | {idle.get('commands', 0)} | "
        f"{idle.get('subs read', 0)} | ≤ 5 ms, none read | {'pass' if ok else 'FAIL'} |",
        "",
        "(b) a tick for one slot (it publishes that slot: 1 message per chat or more, by the chat's form)",
        "",
        "| slot | chats due | sent | Redis commands | per chat | subscriptions read | settings read | "
        "HGETALL of subscriptions | tick wall time | bar | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, slot, size, sent, counts, seconds in rows:
        ok = counts.get("subs read") == size and not counts.get("subs HGETALL") and sent == size
        lines.append(
            f"| {slot} ({label}) | {size} | {sent} | {counts['commands']:,} | {counts['commands'] / size:.1f} | "
            f"{counts.get('subs read', 0)} | {counts.get('settings read', 0)} | {counts.get('subs HGETALL', 0)} | "
            f"{seconds:.2f} s | reads = chats due | {'pass' if ok else 'FAIL'} |"
        )
    return lines


async def publish_all(world: World, paced: bool) -> dict[str, float]:
    env = world.env() | {"HFWEEKLY_SEND_RATE": "29" if paced else "0", "HFWEEKLY_GROUP_RATE_PER_MINUTE": "20"}
    started = time.monotonic()
    status, line, _, peak_mb = await run_publish(env, str(WEEK))
    sends = sorted(s.at for s in world.tg.sent if s.method == "sendMessage")
    renders = int(line.split(" renders for ")[0].rsplit(" ", 1)[1]) if " renders for " in line else -1
    views = int(line.split(" renders for ")[1].split()[0]) if " renders for " in line else -1
    return {
        "exit": float(status), "messages": float(len(sends)),
        "chats": float(len({s.chat_id for s in world.tg.sent})),
        "rate": (len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else float("nan"),
        "wall": time.monotonic() - started, "peak_mb": peak_mb, "too_many": float(world.tg.too_many),
        "renders": float(renders), "views": float(views),
    }  # fmt: skip


async def run(chats: int, paced_chats: int, only: set[str]) -> None:
    server, url = await own_redis()
    try:
        if only & {"a", "b", "c", "d"}:
            async with World(redis_url=url) as world:
                world.hf.weeks[str(WEEK)] = fifty_papers()
                world.tg.validate_html = False
                started = time.monotonic()
                by_slot = await populate(world, chats, FIRST)
                print(f"{chats:,} subscriptions written and indexed in {time.monotonic() - started:.1f} s\n")
                if only & {"a", "b"}:
                    print("\n".join(await ticks(world, by_slot)))
                if only & {"c", "d"}:
                    before = len({s.chat_id for s in world.tg.sent})
                    r = await publish_all(world, paced=False)
                    ok = r["rate"] >= 900 and r["peak_mb"] <= 250 and r["exit"] == 0
                    print(
                        f"\n(c)+(d) `hfweekly publish {WEEK}` to every chat ({before:,} had it from (b)), limits off\n"
                    )
                    print("| chats | messages | views | renders | renders per 1,000 chats | rate | wall time | "
                          "peak RSS | bar | result |")  # fmt: skip
                    print("|---|---|---|---|---|---|---|---|---|---|")
                    print(
                        f"| {r['chats']:,.0f} | {r['messages']:,.0f} | {r['views']:.0f} | {r['renders']:.0f} | "
                        f"{r['renders'] / max(1.0, r['chats'] - before) * 1000:.2f} | {r['rate']:.0f}/s | "
                        f"{r['wall']:.1f} s | {r['peak_mb']:.0f} MB | ≥ 900/s, ≤ 250 MB | {'pass' if ok else 'FAIL'} |"
                    )
        if "e" in only:
            async with World(redis_url=url) as world:
                world.hf.weeks[str(WEEK)] = fifty_papers()
                world.tg.flood_limit = 30
                await populate(world, paced_chats, FIRST)
                r = await publish_all(world, paced=True)
                ok = r["too_many"] == 0 and r["exit"] == 0 and r["chats"] == paced_chats
                print(f"\n(e) the same publish to {paced_chats:,} chats, limiter on, the fake enforcing 30/s\n")
                print("| chats | messages | rate | 429s | wall time | bar | result |")
                print("|---|---|---|---|---|---|---|")
                print(
                    f"| {r['chats']:,.0f} | {r['messages']:,.0f} | {r['rate']:.1f}/s | {r['too_many']:.0f} | "
                    f"{r['wall']:.0f} s | 0 × 429 | {'pass' if ok else 'FAIL'} |"
                )
    finally:
        server.terminate()
        await server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--paced", type=int, default=1000, help="chats of (e), at 30 messages a second")
    parser.add_argument("--only", default="a,b,c,d,e")
    args = parser.parse_args()
    asyncio.run(run(args.chats, args.paced, set(args.only.split(","))))


if __name__ == "__main__":
    main()
