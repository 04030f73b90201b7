"""Notices to admins through a Telegram outage (bot/outbox.py): kept in Redis, sent when Telegram answers
again, oldest first, each once; an admin's /publish goes on when Telegram fails its "started" reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.app import App, open_app, telegram_bot
from bot.config import Settings
from bot.outbox import Outbox
from bot.store import Notice
from bot.store.limits import OUTBOX_CAP
from tests.conftest import ADMIN, ALICE, NOW
from tests.fakes.hf import FakeHF, week_items
from tests.fakes.telegram import TOKEN, ApiError, FakeTelegram, blocked
from tests.test_bot import ask, current, running, shown

BAD_GATEWAY = ApiError(502, "Bad Gateway")


async def test_publish_goes_on_when_its_started_reply_fails_and_the_admin_gets_the_result_later(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.weeks["2025-W37"] = week_items("2025-W37")
    async with running(settings, fake_tg) as app:
        await ask(fake_tg, ALICE, "/subscribe")
        fake_tg.fail_next(ADMIN, BAD_GATEWAY, times=2)  # Telegram fails "started", then the result
        await ask(fake_tg, ADMIN, "/publish 2025-W38")
        assert any("Top 10" in shown(m) for m in current(fake_tg, ALICE))  # published all the same
        assert await app.store.kept_notices() == 1  # the result, kept until Telegram takes it

        def told() -> list[str]:
            return [shown(m) for m in current(fake_tg, ADMIN) if "발행 끝" in shown(m)]

        await fake_tg.wait_for(lambda: bool(told()), within=60)
        [result] = told()
        assert result.startswith("⏰") and "보내려던 알림" in result and "대화 1 · 새로 보냄 1" in result
        assert await app.store.kept_notices() == 0


async def test_an_alert_told_while_telegram_fails_arrives_once_when_it_answers_again(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    async with running(settings, fake_tg) as app:
        fake_tg.fail_next(ALICE, ApiError(400, "Bad Request: something unexpected"))  # a handler fails…
        fake_tg.fail_next(ADMIN, BAD_GATEWAY)  # …while Telegram does not take the alert to the admin
        sent = await ask(fake_tg, ALICE, "/help")
        assert [s.chat_id for s in sent] == [ALICE]  # the apology; the alert is kept, not lost
        assert await app.store.kept_notices() == 1
        await fake_tg.wait_for(lambda: bool(current(fake_tg, ADMIN)), within=60)
        [alert] = [shown(m) for m in current(fake_tg, ADMIN)]
        assert alert.startswith("⏰") and "BadRequest" in alert and "Something unexpected" in alert
        assert await app.store.kept_notices() == 0


@pytest.fixture
async def tg_app(settings: Settings, fake_tg: FakeTelegram) -> AsyncIterator[App]:
    configured = settings.model_copy(
        update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": f"{fake_tg.url}/bot", "send_rate": 0}
    )
    async with open_app(configured, clock=lambda: NOW) as app:
        yield app


async def test_kept_notices_go_oldest_first_and_once_however_many_processes_send_them(
    tg_app: App, fake_tg: FakeTelegram
) -> None:
    async with telegram_bot(tg_app) as (bot, _):
        one, two = (Outbox(bot, tg_app.store, tg_app.settings.tz, clock=lambda: NOW) for _ in range(2))
        fake_tg.method_failures["sendMessage"].extend([BAD_GATEWAY] * 3)  # Telegram is down for a while
        await one.send(ADMIN, "첫째 <b>")  # not taken: kept
        await two.send(ADMIN, "둘째")  # behind it (the first is tried again, and not taken)
        await one.send(ADMIN, "셋째", html=True)
        assert fake_tg.to(ADMIN) == [] and await tg_app.store.kept_notices() == 3
        sent = await asyncio.gather(one.flush(), two.flush(), one.flush())  # Telegram is back
        assert sorted(sent) == [0, 0, 3]  # one process sent them all; the others left it to it
        texts = [m.text for m in fake_tg.to(ADMIN)]
        assert [t.split("\n\n", 1)[1] for t in texts] == ["첫째 <b>", "둘째", "셋째"]
        assert all(t.startswith("⏰ 11-26 12:00에 보내려던 알림") for t in texts)  # when it was meant, in KST
        assert await one.flush() == 0 and len(fake_tg.to(ADMIN)) == 3

        fake_tg.fail_next(ADMIN, blocked())  # refused for good: sending it again would not help
        await one.send(ADMIN, "넷째")
        assert await tg_app.store.kept_notices() == 0


async def test_the_outbox_keeps_the_newest_notices_for_a_week(app: App, redis: Redis, prefix: str) -> None:
    for i in range(OUTBOX_CAP + 5):
        await app.store.keep_notice(Notice(ADMIN, f"notice {i}", False, NOW))
    assert await app.store.kept_notices() == OUTBOX_CAP
    first = await app.store.first_notice()
    assert first is not None and first.text == "notice 5" and first.at == NOW
    assert 0 < await redis.ttl(f"{prefix}:outbox") <= 7 * 24 * 3600
    await redis.lpush(f"{prefix}:outbox", "not json")  # unreadable: skipped and dropped
    assert first == await app.store.first_notice()
    await app.store.drop_notice(first)
    assert await app.store.kept_notices() == OUTBOX_CAP - 1
