"""Editor benchmark: a correction of one paper shown in 20,000 chats' digests.

    python -m bench.edits [--chats 20000] [--only a,b,c]

The week is published (in-process, limits off) to `chats` private chats in four views (summary 10,
full, brief, summary 20); the top paper is in one message of each chat. Then an admin's correction of
that paper (Translator.correct, the fake Claude) queues every message that shows it for the editor.

(a) The editor with the one send limiter at Telegram's pace (send_rate 29/s) and the fake Telegram
    enforcing 30 messages a second: edits per second from the first edit to the last, and 429s. While
    it edits, a slot of 20 chats comes due (Monday 09:00, the same week): the delay from the tick that
    publishes it to the slot's last message, in the same process and through the same limiter.
    Bars: >= 28 edits/s, 0 x 429; the slot's delay <= 2 s.
(b) A second correction, limits off and the fake's checks off: edits per second (reported).
(c) Redis memory of the paper→message index (`shows:*`, `shown:*`, `msgref:*`: MEMORY USAGE of every
    key) after the publish, per 100,000 messages sent (reported).

Everything runs in this process (the fakes too) against a Redis server of the benchmark's own.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from redis.asyncio import Redis

from bench.common import World, own_redis
from bot.app import App, broadcaster, open_app, telegram_bot, weekly_scheduler
from bot.config import Settings
from bot.editor import Editor, EditRun
from bot.limiter import SendLimiter
from bot.models import DEFAULT_SLOT, ChatKind, ChatSettings, Form, Subscription
from bot.week import IsoWeek
from tests.fakes.telegram import TOKEN, FakeTelegram

WEEK = IsoWeek(2025, 38)
TOP = "2509.13310"
NOW = datetime(2025, 9, 22, 0, 0, 30, tzinfo=UTC)  # Monday 09:00:30 in Seoul: 2025-W38 is due
FIRST, SLOT_FIRST = 1_000_000, 5_000_000
VIEWS = [ChatSettings(), ChatSettings(form=Form.FULL), ChatSettings(form=Form.BRIEF), ChatSettings(count=20)]


def settings_of(world: World, *, rate: float) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(TOKEN), telegram_api_base_url=f"{world.tg.url}/bot",
        anthropic_api_key=SecretStr("bench-key"), anthropic_base_url=world.claude.url, hf_base_url=world.hf.url,
        redis_url=world.redis_url, redis_prefix=world.prefix, send_rate=rate, group_rate_per_minute=0, http_port=0,
        log_level="WARNING",
    )  # fmt: skip


@asynccontextmanager
async def running(world: World, *, rate: float) -> AsyncIterator[tuple[App, Any, SendLimiter]]:
    """The app, its bot and the one send limiter (at `rate` messages a second; 0: none)."""
    async with open_app(settings_of(world, rate=rate), clock=lambda: NOW) as app, telegram_bot(app) as (bot, limiter):
        yield app, bot, limiter


async def populate(world: World, chats: int) -> None:
    when = datetime(2025, 9, 1, tzinfo=UTC)
    rows: list[tuple[Subscription, ChatSettings | None]] = []
    for i in range(chats):
        world.tg.add_chat(FIRST + i, "private")
        view = VIEWS[i % len(VIEWS)]
        rows.append((Subscription(FIRST + i, ChatKind.PRIVATE, "", True, when, when), view if i % len(VIEWS) else None))
    for i in range(20):  # the slot that comes due while the editor works
        world.tg.add_chat(SLOT_FIRST + i, "private")
        rows.append((Subscription(SLOT_FIRST + i, ChatKind.PRIVATE, "", True, when, when), ChatSettings(day=0, hour=9)))
    await world.store.save_chats(rows)


async def correct(app: App, instruction: str) -> None:
    assert app.translator is not None
    found = await app.store.get_paper(TOP)
    assert found is not None
    kept = (await app.store.instructions([TOP])).get(TOP, ())
    assert (await app.translator.correct(found[0], WEEK, [*kept, instruction])).translation is not None


def edit_rate(tg: FakeTelegram, since: int) -> tuple[int, float]:
    edits = sorted(s.at for s in tg.sent[since:] if s.method == "editMessageText")
    return len(edits), (len(edits) - 1) / (edits[-1] - edits[0]) if len(edits) > 1 else float("nan")


async def index_memory(url: str, prefix: str) -> int:
    redis = Redis.from_url(url, decode_responses=True)
    total = 0
    for pattern in ("shows:*", "shown:*", "msgref:*"):
        async for key in redis.scan_iter(match=f"{prefix}:{pattern}", count=1000):
            total += int(await redis.memory_usage(key, samples=0) or 0)
    await redis.aclose()
    return total


async def paced_pass(world: World, app: App, bot: object, limiter: SendLimiter) -> tuple[EditRun, float, float]:
    """(a): the editor at 29/s; a slot comes due meanwhile. The run, the edit rate, the slot's delay."""
    editor = Editor(
        bot, app.digests, app.translator, limiter, edits=app.store, delivery=app.store, tz=app.settings.tz,
        clock=lambda: NOW,
    )  # fmt: skip
    caster = broadcaster(app, bot, limiter)
    jobs = weekly_scheduler(app, bot, caster, editor)
    since = len(world.tg.sent)
    task = asyncio.create_task(editor.run())
    await asyncio.sleep(20)  # editing at full pace
    started = time.monotonic()
    await jobs.run_due(NOW)  # the slot's run (the tick minus healing)
    slot = [s.at for s in world.tg.sent if s.chat_id >= SLOT_FIRST and s.method == "sendMessage"]
    delay = max(slot) - started if len(slot) == 20 else float("inf")
    run = await task
    return run, edit_rate(world.tg, since)[1], delay


async def run(chats: int, only: set[str]) -> None:
    server, url = await own_redis()
    try:
        async with World(redis_url=url) as world:
            world.tg.validate_html = False
            await populate(world, chats)
            async with running(world, rate=0) as (app, bot, lim):
                started = time.monotonic()
                report = await broadcaster(app, bot, lim).publish(WEEK, slots=[DEFAULT_SLOT])
                print(f"Published {WEEK} to {report.chats:,} chats ({report.messages:,} messages, "
                      f"{report.views} views) in {time.monotonic() - started:.0f} s\n")  # fmt: skip
                memory = await index_memory(url, world.prefix)
            if "a" in only:
                world.tg.validate_html, world.tg.flood_limit = True, 30
                async with running(world, rate=29) as (app, bot, limiter):
                    await correct(app, "첫 문장의 주어를 모델로")
                    done, rate, delay = await paced_pass(world, app, bot, limiter)
                ok = rate >= 28 and world.tg.too_many == 0 and delay <= 2
                print(
                    f"(a) a correction of {TOP}, shown in {chats:,} chats' digests; limiter at 29/s, the fake at 30/s\n"
                )
                print("| messages edited | rate | 429s | a due slot's delay (20 chats) | bar | result |")
                print("|---|---|---|---|---|---|")
                print(f"| {done.edited:,} | {rate:.1f}/s | {world.tg.too_many} | {delay:.2f} s | ≥ 28/s, 0 × 429, "
                      f"delay ≤ 2 s | {'pass' if ok else 'FAIL'} |\n")  # fmt: skip
            if "b" in only:
                world.tg.validate_html, world.tg.flood_limit = False, None
                async with running(world, rate=0) as (app, bot, limiter):
                    await correct(app, "요약에 AgentFounder를 먼저")
                    editor = Editor(
                        bot, app.digests, app.translator, limiter, edits=app.store, delivery=app.store,
                        tz=app.settings.tz, clock=lambda: NOW,
                    )  # fmt: skip
                    since = len(world.tg.sent)
                    started = time.monotonic()
                    done = await editor.run()
                    wall = time.monotonic() - started
                print("(b) another correction, limits off\n")
                print("| messages edited | rate | wall time |")
                print("|---|---|---|")
                print(f"| {done.edited:,} | {edit_rate(world.tg, since)[1]:.0f}/s | {wall:.1f} s |\n")
            if "c" in only:
                per = memory / max(1, report.messages) * 100_000
                print("(c) the paper→message index in Redis after the publish\n")
                print("| messages sent | index memory | per 100,000 messages sent |")
                print("|---|---|---|")
                print(f"| {report.messages:,} | {memory / 1e6:.2f} MB | {per / 1e6:.2f} MB |")
    finally:
        server.terminate()
        await server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=20_000)
    parser.add_argument("--only", default="a,b,c", help="(a) takes chats / 29 seconds: about 12 minutes for 20,000")
    args = parser.parse_args()
    asyncio.run(run(args.chats, set(args.only.split(","))))


if __name__ == "__main__":
    main()
