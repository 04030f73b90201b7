"""One leader among the processes sharing a Redis: its lease, the scheduler's tick in the leader only,
and in `hfweekly run` processes: only the leader polls, a standby takes over when it dies, and every
update is handled once (claimed by id), whichever process or replica it reaches."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.alerts import Alerts, admin_notifier
from bot.app import App, broadcaster, open_app, telegram_bot
from bot.config import Settings
from bot.heal import Healer
from bot.leader import Leadership, process_name
from bot.models import HealRecord
from bot.schedule import WeeklyScheduler
from bot.store import Store
from bot.week import IsoWeek
from tests.conftest import ADMIN, free_port
from tests.fakes.anthropic import FakeClaude
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_bot import ask, running
from tests.test_ops import get

NOW = datetime(2025, 9, 24, 3, 0, tzinfo=UTC)  # Wednesday of 2025-W39
GENEROUS = 60.0  # seconds to wait for an event that takes a few


class Roles:
    """What a Leadership's listeners heard, and an event per change."""

    def __init__(self, leadership: Leadership) -> None:
        self.heard: list[bool] = []
        self.changed = asyncio.Event()
        leadership.listen(self.hear)

    async def hear(self, leading: bool) -> None:
        self.heard.append(leading)
        self.changed.set()

    async def wait_for(self, leading: bool) -> None:
        async with asyncio.timeout(GENEROUS):
            while not self.heard or self.heard[-1] is not leading:
                self.changed.clear()
                await self.changed.wait()


def leadership(store: Store, name: str, ttl: float) -> Leadership:
    return Leadership(store.lease("leader", name, ttl=timedelta(seconds=ttl)), name, ttl=timedelta(seconds=ttl))


async def test_one_process_leads_and_another_takes_over_when_its_lease_lapses(redis: Redis, prefix: str) -> None:
    store = Store(redis, prefix=prefix)
    first, second = leadership(store, "host-a:1", 1.5), leadership(store, "host-b:2", 1.5)
    heard_first, heard_second = Roles(first), Roles(second)
    await first.start()
    await second.start()
    try:
        assert first.leading and not second.leading
        assert await second.leader() == await first.leader() == "host-a:1"
        assert await redis.pttl(f"{prefix}:lease:leader") > 0  # a lease, not a lock forever

        await first.stop()  # it stops renewing without giving the lease up: as if it died
        await heard_second.wait_for(True)  # once the lease lapsed
        assert second.leading and await second.leader() == "host-b:2"
        assert heard_first.heard == [True, False] and heard_second.heard == [True]

        third = leadership(store, "host-c:3", 1.5)
        heard_third = Roles(third)
        await third.start()
        assert not third.leading  # the second leads: the third waits
        await second.release()  # a graceful stop gives the lease up: the third takes it at its next try
        await heard_third.wait_for(True)
        assert await third.leader() == "host-c:3"
        await third.release()
        assert await redis.exists(f"{prefix}:lease:leader") == 0
    finally:
        await first.stop()
        await second.stop()


async def test_a_leader_whose_lease_another_took_stops_leading_at_once(redis: Redis, prefix: str) -> None:
    store = Store(redis, prefix=prefix)
    first = leadership(store, "host-a:1", 60)
    heard = Roles(first)
    await first.start()
    try:
        assert await first.confirm() and first.leading
        # The lease lapsed while this process stalled, and another one took it meanwhile.
        await redis.delete(f"{prefix}:lease:leader")
        assert await store.lease("leader", "host-x:9", ttl=timedelta(seconds=60)).take()
        assert not await first.confirm()  # before its next tick: refused, so it leads no more, at once
        assert not first.leading and heard.heard == [True, False]
        assert await first.leader() == "host-x:9"
        assert await redis.get(f"{prefix}:lease:leader") is not None  # the other's lease is left alone
        await first.release()
        assert await first.leader() == "host-x:9"
    finally:
        await first.stop()


async def test_a_process_that_cannot_start_leading_gives_the_lease_up(redis: Redis, prefix: str) -> None:
    store = Store(redis, prefix=prefix)
    first, second = leadership(store, "host-a:1", 60), leadership(store, "host-b:2", 60)

    async def polling(leading: bool) -> None:
        if leading:
            raise ConnectionError("Telegram cannot be reached")  # e.g. deleteWebhook failed

    first.listen(polling)
    heard = Roles(first)  # told after the failing one: it hears only that leading is over
    await first.start()
    try:
        assert not first.leading and heard.heard == [False]
        assert await first.leader() is None  # given up: whoever tries next takes it
        await second.start()
        assert second.leading and await first.leader() == "host-b:2"
    finally:
        await first.stop()
        await second.stop()


async def test_status_names_the_leader(settings: Settings, fake_tg: FakeTelegram) -> None:
    async with running(settings, fake_tg):
        [reply] = await ask(fake_tg, ADMIN, "/status")
    name = process_name()
    assert f"정기 작업·폴링을 맡은 프로세스: {name} (이 답은 {name})" in parse_telegram_html(reply.text)


@pytest.fixture
async def two_apps(settings: Settings, fake_tg: FakeTelegram) -> AsyncIterator[tuple[App, App]]:
    """Two processes' worth of clients sharing one Redis (one prefix), with nothing due but healing."""
    configured = settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base_url": f"{fake_tg.url}/bot",
            "schedule": "0 9 1 1 *",  # no slot due: the tick's work is healing
            "catch_up": timedelta(minutes=1),
        }
    )
    async with open_app(configured, clock=lambda: NOW) as one, open_app(configured, clock=lambda: NOW) as two:
        yield one, two


async def scheduler(app: App, stack: AsyncExitStack, leader: Leadership) -> WeeklyScheduler:
    bot, limiter = await stack.enter_async_context(telegram_bot(app))
    notify = admin_notifier(bot, app.settings)
    healer = Healer(app.digests, None, delivery=app.store, edits=app.store, clock=app.clock, notify=notify)
    return WeeklyScheduler(
        broadcaster(app, bot, limiter), healer, app.store, app.settings, clock=app.clock, notify=notify,
        alerts=Alerts(app.store, notify), leader=leader,
    )  # fmt: skip


async def test_the_tick_runs_in_the_leader_only(two_apps: tuple[App, App], fake_claude: FakeClaude) -> None:
    one, two = two_apps
    fake_claude.default = "status:500"  # Claude is down: every heal asks it again for the pending papers
    week = IsoWeek(2025, 38)
    await one.store.save_heal(week, HealRecord(since=NOW - timedelta(hours=1), indexed=True))
    first, second = leadership(one.store, "host-a:1", 1.5), leadership(two.store, "host-b:2", 1.5)
    async with AsyncExitStack() as stack:
        ticks_first, ticks_second = await scheduler(one, stack, first), await scheduler(two, stack, second)
        await first.start()
        await second.start()
        stack.push_async_callback(first.stop)
        stack.push_async_callback(second.stop)

        await ticks_first.tick()
        asked = fake_claude.calls
        assert asked > 0 and (await one.store.heal_record(week)) == HealRecord(
            since=NOW - timedelta(hours=1), attempts=1, papers=10, indexed=True
        )
        await ticks_second.tick()  # the standby's tick: nothing (the old code healed here again)
        assert fake_claude.calls == asked
        assert (await two.store.heal_record(week)).attempts == 1  # type: ignore[union-attr]

        heard = Roles(second)
        await first.release()  # the leader stops: the standby takes over, and its ticks do the work
        await heard.wait_for(True)
        await ticks_first.tick()
        assert fake_claude.calls == asked
        await ticks_second.tick()
        assert fake_claude.calls > asked
        assert (await two.store.heal_record(week)).attempts == 2  # type: ignore[union-attr]


# --- `hfweekly run` processes ---------------------------------------------------------------------


@pytest.fixture
def env(cli_env: dict[str, str], fake_tg: FakeTelegram) -> dict[str, str]:
    return cli_env | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{fake_tg.url}/bot",
        "HFWEEKLY_LOG_LEVEL": "INFO",
        "HFWEEKLY_SCHEDULE": "0 9 1 1 *",  # nothing to publish while this test runs
        "HFWEEKLY_CATCH_UP": "1m",
        "HFWEEKLY_LEADER_LEASE_SECONDS": "3",
        "PTB_TIMEDELTA": "true",
    }


async def run_bot(env: dict[str, str], tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def health(port: int) -> tuple[int, dict[str, Any]]:
    status, body = await get(f"http://127.0.0.1:{port}/healthz", within=GENEROUS)
    return status, json.loads(body)


async def started(fake: FakeTelegram, method: str, processes: int) -> None:
    """Wait until `processes` bots have called `method` (setMyCommands: started; setWebhook: listening)."""
    await fake.wait_for(lambda: sum(name == method for name, _ in fake.calls) >= processes, within=GENEROUS)


async def settled(ports: list[int]) -> list[dict[str, Any]]:
    """Every process's /healthz once each is up and they agree on one leader."""
    async with asyncio.timeout(GENEROUS):
        while True:
            answers = [await health(port) for port in ports]
            bodies = [body for _, body in answers]
            leaders = {body.get("leader") for body in bodies}
            if all(status == 200 for status, _ in answers) and len(leaders) == 1 and None not in leaders:
                return bodies
            await asyncio.sleep(0.1)


async def leads(port: int) -> dict[str, Any]:
    """The /healthz of the process on `port` once it says it leads."""
    async with asyncio.timeout(GENEROUS):
        while True:
            _, body = await health(port)
            if body["role"] == "leader":
                return body
            await asyncio.sleep(0.1)


async def everyone_asks(fake: FakeTelegram, users: range, text: str, answers: int) -> None:
    """Each user writes `text`; wait until each has `answers` messages from the bot, then until a
    last message (written after all of them) was answered too."""
    for user in users:
        fake.message(user, user, text)
    await fake.wait_for(lambda: all(len(fake.to(user)) >= answers for user in users), within=GENEROUS)
    last = users[0] - 1
    fake.add_chat(last, "private")
    before = len(fake.to(last))
    fake.message(last, last, text)
    await fake.wait_for(lambda: len(fake.to(last)) > before, within=GENEROUS)


def answers_per_user(fake: FakeTelegram, users: range) -> Counter[int]:
    replies = Counter(sent.chat_id for sent in fake.sent if sent.chat_id in users)
    assert all("사용법" in parse_telegram_html(sent.text) for sent in fake.sent if sent.chat_id in users)
    return replies


async def stop(procs: list[asyncio.subprocess.Process]) -> list[str]:
    """SIGTERM to those still running; every process's log."""
    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    logs = []
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        logs.append(err.decode())
    return logs


async def test_two_polling_processes_answer_each_update_once_and_the_standby_takes_over(
    env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    users = range(50_001, 50_031)
    for user in users:
        fake_tg.add_chat(user, "private")
    ports = [free_port(), free_port()]
    procs = [await run_bot(env | {"HFWEEKLY_HTTP_PORT": str(port)}, tmp_path) for port in ports]
    try:
        await started(fake_tg, "setMyCommands", 2)
        await everyone_asks(fake_tg, users, "/help", answers=1)
        assert set(answers_per_user(fake_tg, users).values()) == {1}  # nobody answered twice

        bodies = await settled(ports)
        [lead] = [i for i, body in enumerate(bodies) if body["role"] == "leader"]
        standby = 1 - lead
        assert bodies[lead]["process"].endswith(f":{procs[lead].pid}") and bodies[lead]["updates"] == "polling"
        assert bodies[standby] | {"process": "-"} == {
            "ok": True, "role": "standby", "process": "-", "leader": bodies[lead]["process"], "updates": "none"
        }  # fmt: skip

        procs[lead].kill()  # SIGKILL: the lease is not given up; it lapses
        await procs[lead].wait()
        body = await leads(ports[standby])
        assert body["ok"] and body["leader"] == body["process"] == bodies[standby]["process"]
        assert body["updates"] == "polling"

        # The new leader polls from the last offset it saw (none): the fake hands it every update
        # again, and those the dead leader claimed are not handled twice.
        await everyone_asks(fake_tg, users, "/help", answers=2)
        assert set(answers_per_user(fake_tg, users).values()) == {2}
    finally:
        logs = await stop(procs)
    assert "WARNING bot.leader" not in logs[standby]  # it lost nothing on the way (it stopped at the end)
    assert all(log.count("Another instance is polling") <= 1 for log in logs), logs


async def deliver(update: dict[str, Any], port: int, secret: str) -> int:
    """POST an update to one replica's webhook, as Telegram (or a load balancer retrying) would."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://127.0.0.1:{port}/telegram", json=update, headers=headers) as response,
    ):
        return response.status


async def test_an_update_delivered_to_two_webhook_replicas_is_handled_once(
    env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    users = range(60_001, 60_031)
    webhook_ports, ports = [free_port(), free_port()], [free_port(), free_port()]
    procs = []
    for webhook_port, port in zip(webhook_ports, ports, strict=True):
        url = f"http://127.0.0.1:{webhook_port}/telegram"
        replica = env | {"HFWEEKLY_WEBHOOK_PORT": str(webhook_port), "HFWEEKLY_HTTP_PORT": str(port)}
        procs.append(await run_bot(replica, tmp_path, "--webhook-url", url))
    try:
        await started(fake_tg, "setWebhook", 2)
        assert fake_tg.webhook is not None
        secret = fake_tg.webhook["secret"]
        for user in [*users, users[-1] + 1]:  # the fake delivers each to one replica; then both get it again
            fake_tg.add_chat(user, "private")
            fake_tg.message(user, user, "/help")
            for webhook_port in webhook_ports:
                assert await deliver(fake_tg.updates[-1], webhook_port, secret) == 200
        await fake_tg.wait_for(lambda: all(fake_tg.to(user) for user in [*users, users[-1] + 1]), within=GENEROUS)
        await fake_tg.idle()
        assert set(answers_per_user(fake_tg, users).values()) == {1}  # three deliveries, one answer

        bodies = await settled(ports)
        assert sorted(body["role"] for body in bodies) == ["leader", "standby"]
        assert {body["updates"] for body in bodies} == {"webhook"}
    finally:
        await stop(procs)
