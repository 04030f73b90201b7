"""The weekly broadcast: the Broadcaster and the scheduler against the fake Telegram and real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from telegram.ext import ExtBot

from bot.alerts import Alerts, admin_notifier
from bot.app import App, open_app
from bot.config import Settings
from bot.deliver import Broadcaster
from bot.editor import Editor
from bot.errors import AlreadyPublishing, HeldError
from bot.heal import Healer
from bot.ledger import IN_DOUBT, Report, State
from bot.limiter import FREE, Paced, SendLimiter
from bot.models import ChatKind, Subscription
from bot.outbox import Outbox
from bot.schedule import WeeklyScheduler
from bot.slots import owed_week
from bot.telegram_http import AiohttpRequest, NotSent
from bot.week import IsoWeek
from tests.conftest import ADMIN, ALICE, BOB, CHANNEL, FORUM, GROUP, eventually, free_port, start_redis_server
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, twenty_papers, week_items
from tests.fakes.telegram import TOKEN, ApiError, FakeTelegram, blocked, migrated, not_found, retry_after
from tests.fakes.telegram_html import parse_telegram_html

W38 = IsoWeek(2025, 38)
MONDAY_9 = datetime(2025, 9, 22, 0, 0, 30, tzinfo=UTC)  # 09:00:30 in Seoul, Monday of 2025-W39


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9)


@pytest.fixture
def broadcast_settings(settings: Settings, fake_tg: FakeTelegram) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base_url": f"{fake_tg.url}/bot",
            "admins": [ADMIN],
            "send_rate": 0.0,  # no pacing unless a test is about pacing
            "group_rate_per_minute": 0.0,
        }
    )


@pytest.fixture
async def app(broadcast_settings: Settings, clock: Clock) -> AsyncIterator[App]:
    async with open_app(broadcast_settings, clock=clock) as built:
        yield built


Bot = ExtBot[Paced]


@pytest.fixture
async def tg_bot(app: App, broadcast_settings: Settings) -> AsyncIterator[Bot]:
    """The bot as `hfweekly publish` has it (a 1 s read timeout, so that a late answer is a timeout)."""
    limiter = SendLimiter(app.store, rate=0, group_per_minute=0)
    request = AiohttpRequest(connections=16, read_timeout=1.0)
    bot: Bot = ExtBot(TOKEN, base_url=broadcast_settings.telegram_api_base_url, request=request, rate_limiter=limiter)
    async with bot:
        yield bot


async def broadcaster(app: App, bot: Bot, clock: Clock, settings: Settings | None = None) -> Broadcaster:
    """A broadcaster with its own send limiter (paced as `settings` say), started as the bot starts one."""
    s = settings or app.settings
    paid_rate = s.paid_rate if s.paid_broadcast else 0.0
    limiter = SendLimiter(app.store, rate=s.send_rate, group_per_minute=s.group_rate_per_minute, paid_rate=paid_rate)
    await limiter.initialize()
    notify = admin_notifier(Outbox(bot, app.store, s.tz), s)
    return Broadcaster(
        bot, app.digests, app.subscriptions, limiter, s, chats=app.store, delivery=app.store, runs=app.store,
        edits=app.store, clock=clock, notify=notify, alerts=Alerts(app.store, notify),
    )  # fmt: skip


async def publish(app: App, bot: Bot, clock: Clock, week: IsoWeek = W38, settings: Settings | None = None) -> Report:
    return await (await broadcaster(app, bot, clock, settings)).publish(week)


def editor(app: App, bot: Bot, clock: Clock) -> Editor:
    limiter = SendLimiter(app.store, rate=0, group_per_minute=0)
    return Editor(
        bot, app.digests, app.translator, limiter, edits=app.store, delivery=app.store, tz=app.settings.tz, clock=clock
    )


def healer(app: App, bot: Bot, clock: Clock, edits: Editor | None = None) -> Healer:
    notify = admin_notifier(Outbox(bot, app.store, app.settings.tz), app.settings)
    return Healer(app.digests, edits, delivery=app.store, edits=app.store, clock=clock, notify=notify)


async def heal(app: App, bot: Bot, clock: Clock) -> None:
    """One heal, and the editor's pass that it starts (awaited)."""
    edits = editor(app, bot, clock)
    await healer(app, bot, clock, edits).heal()
    await edits.idle()


async def subscribe(app: App, chat_id: int, kind: ChatKind, thread: int | None = None) -> None:
    now = datetime(2025, 9, 1, tzinfo=UTC)
    await app.store.save_subscription(
        Subscription(chat_id=chat_id, kind=kind, title=f"chat {chat_id}", active=True, since=now, updated=now,
                     thread_id=thread)
    )  # fmt: skip


async def everyone(app: App) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    await subscribe(app, GROUP, ChatKind.GROUP)
    await subscribe(app, FORUM, ChatKind.SUPERGROUP, thread=42)


LONG_WEEK = IsoWeek(2025, 36)


@pytest.fixture
async def long_app(broadcast_settings: Settings, clock: Clock, fake_hf: FakeHF) -> AsyncIterator[App]:
    """An app whose digests have twenty papers, in more than one message."""
    fake_hf.weeks[str(LONG_WEEK)] = twenty_papers()
    async with open_app(broadcast_settings.model_copy(update={"top_n": 20}), clock=clock) as built:
        yield built


def digest_parts(fake: FakeTelegram, chat: int) -> list[str]:
    return [s.text for s in fake.to(chat) if s.method == "sendMessage"]


def admin_texts(fake: FakeTelegram) -> list[str]:
    return [s.text for s in fake.to(ADMIN)]


# --- delivery ------------------------------------------------------------------------------------


async def test_every_chat_gets_every_part_once(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    await everyone(app)
    app.settings.channels = ["@hf_weekly_ko"]
    report = await publish(app, tg_bot, clock)
    assert (report.chats, report.sent, report.failed, report.already) == (5, 5, 0, 0)
    reference = digest_parts(fake_tg, ALICE)
    assert reference and "Top 10" in parse_telegram_html(reference[0])
    assert "Claude가 번역·요약한 AI 번역" in parse_telegram_html(reference[-1])
    assert "?start=p_2509_13310" in "".join(reference)
    for chat in (BOB, GROUP, FORUM, CHANNEL):
        assert digest_parts(fake_tg, chat) == reference
    assert {s.params.get("message_thread_id") for s in fake_tg.to(FORUM)} == {42}
    ledger = await app.store.ledger(W38)
    assert ledger[ALICE].state is State.SENT
    assert all(m is not None and m > 0 for m in ledger[ALICE].parts)
    assert ledger[CHANNEL].state is State.SENT  # the configured @name, looked up to its id
    assert set(ledger) == {ALICE, BOB, GROUP, FORUM, CHANNEL}  # one identity per chat: its id

    again = await publish(app, tg_bot, clock)  # idempotent
    assert (again.sent, again.already, again.messages) == (0, 5, 0)
    assert digest_parts(fake_tg, ALICE) == reference


async def test_rate_limits_are_kept(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    for user in range(5000, 5040):
        fake_tg.add_chat(user, "private")
        await subscribe(app, user, ChatKind.PRIVATE)
    fake_tg.flood_limit = 30
    paced = app.settings.model_copy(update={"send_rate": 25.0})  # margin for a loaded machine's jitter
    started = time.monotonic()
    report = await publish(app, tg_bot, clock, settings=paced)
    elapsed = time.monotonic() - started
    assert report.sent == 40 and fake_tg.too_many == 0
    assert elapsed >= (report.messages - 1) / 25 * 0.95  # no faster than the limit allows


async def test_retry_after_is_waited_and_kept_in_redis(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    fake_tg.fail_next(ALICE, retry_after(1))
    started = time.monotonic()
    report = await publish(app, tg_bot, clock)
    assert report.sent == 1 and time.monotonic() - started >= 0.95
    assert [r[2] for r in fake_tg.rejected] == ["Too Many Requests: retry after 1"]

    # A restart while a flood wait is on does not hammer Telegram: it waits what is left first.
    await app.store.push_send_wait(FREE, 1.5)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    started = time.monotonic()
    await publish(app, tg_bot, clock)
    first = min(s.at for s in fake_tg.to(BOB))
    assert first - started >= 1.4


async def test_a_groups_429_pauses_that_group_and_the_others_go_on(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    """Telegram paused one group (its per-minute limit): the other chats are sent meanwhile; the group
    gets the digest once its wait is over."""
    await subscribe(app, GROUP, ChatKind.GROUP)  # the lowest id: the first chat of the run
    people = range(6000, 6010)
    for user in people:
        fake_tg.add_chat(user, "private")
        await subscribe(app, user, ChatKind.PRIVATE)
    fake_tg.fail_next(GROUP, retry_after(3))
    two = app.settings.model_copy(update={"broadcast_concurrency": 2})  # one worker waits for the group
    report = await publish(app, tg_bot, clock, settings=two)
    assert report.sent == 11 and [r[1:] for r in fake_tg.rejected] == [(GROUP, "Too Many Requests: retry after 3")]
    [to_group] = fake_tg.to(GROUP)
    assert all(s.at < to_group.at for s in fake_tg.sent if s.chat_id in people)  # nobody waited for the group
    assert await app.store.send_wait_left(FREE) == 0  # no flood wait for every sender


async def test_paid_broadcasts_go_with_allow_paid_broadcast_and_are_counted(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    """With paid broadcasts on, the broadcast goes on a budget of its own (the fake enforcing 30/s for
    free messages and 150/s for paid ones: no 429), each message flagged, and the week counts them."""
    people = range(7000, 7060)
    for user in people:
        fake_tg.add_chat(user, "private")
        await subscribe(app, user, ChatKind.PRIVATE)
    fake_tg.flood_limit, fake_tg.paid_flood_limit = 30, 150
    paid = app.settings.model_copy(update={"send_rate": 25.0, "paid_broadcast": True, "paid_rate": 100.0})
    report = await publish(app, tg_bot, clock, settings=paid)
    assert report.sent == 60 and fake_tg.too_many == 0
    sends = [s for s in fake_tg.sent if s.method == "sendMessage"]
    assert len(sends) == report.messages and all(s.paid for s in sends)
    await eventually(lambda: has_count(app, report.messages))  # saved within a second (bot/limiter.py)
    assert await app.store.send_wait_left(FREE) == 0  # the free budget (replies, edits) was not used


async def has_count(app: App, messages: int) -> bool:
    return await app.store.paid_count(W38) == messages


async def test_blocked_and_missing_chats_are_deactivated_and_others_served(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await everyone(app)
    fake_tg.fail_next(ALICE, blocked())
    fake_tg.fail_next(GROUP, not_found())
    fake_tg.fail_next(BOB, ApiError(400, "Bad Request: something else"))
    report = await publish(app, tg_bot, clock)
    assert (report.sent, report.inactive, report.failed) == (1, 2, 1)
    alice = await app.store.get_subscription(ALICE)
    group = await app.store.get_subscription(GROUP)
    assert alice is not None and not alice.active and group is not None and not group.active
    ledger = await app.store.ledger(W38)
    assert ledger[ALICE].state is State.INACTIVE and "blocked" in ledger[ALICE].last_error
    assert ledger[BOB].state is State.FAILED and ledger[BOB].parts[0] is None
    assert ledger[BOB].retry_at == clock.now + timedelta(minutes=2)
    assert digest_parts(fake_tg, FORUM)
    assert any("발행 결과" in t for t in admin_texts(fake_tg))
    assert await app.store.retry_at(W38) == clock.now + timedelta(minutes=2)

    # The failed chat is retried by a later run, once its retry is due; the deactivated ones are not.
    early = await publish(app, tg_bot, clock)
    assert (early.sent, early.waiting, early.already) == (0, 1, 1)
    clock.now += timedelta(minutes=2)
    again = await publish(app, tg_bot, clock)
    assert (again.sent, again.already, again.chats, again.done) == (1, 1, 2, True)


async def test_group_migrated_to_supergroup(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    await subscribe(app, GROUP, ChatKind.GROUP)
    new_id = -1009999
    fake_tg.add_chat(new_id, "supergroup", "ML 스터디")
    fake_tg.fail_next(GROUP, migrated(new_id))
    report = await publish(app, tg_bot, clock)
    assert report.migrated == 1 and report.sent == 1
    assert await app.store.get_subscription(GROUP) is None
    moved = await app.store.get_subscription(new_id)
    assert moved is not None and moved.active and moved.kind is ChatKind.SUPERGROUP
    assert digest_parts(fake_tg, new_id) and not digest_parts(fake_tg, GROUP)


async def test_unparseable_part_is_resent_as_plain_text(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    fake_tg.fail_next(ALICE, ApiError(400, "Bad Request: can't parse entities: unexpected end tag at byte 10"))
    report = await publish(app, tg_bot, clock)
    assert report.sent == 1
    first = fake_tg.to(ALICE)[0]
    assert "parse_mode" not in first.params and "<b>" not in first.text and "Top 10" in first.text
    assert any("평문으로 다시 보냈습니다" in t for t in admin_texts(fake_tg))


async def test_an_unknown_outcome_is_resent_by_a_later_run(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    fake_tg.hang[ALICE] = 2.0  # delivered, but the answer comes after the client's 1 s read timeout
    report = await publish(app, tg_bot, clock)
    assert (report.sent, report.unknown, report.done) == (1, 1, False)
    entry = (await app.store.ledger(W38))[ALICE]
    assert entry.state is State.FAILED and entry.parts == (IN_DOUBT,) and "TimedOut" in entry.last_error
    clock.now += timedelta(minutes=2)
    again = await publish(app, tg_bot, clock)
    assert (again.sent, again.done) == (1, True)
    parts = len(digest_parts(fake_tg, BOB))
    assert len(digest_parts(fake_tg, ALICE)) == parts + 1  # the part in doubt was sent once more
    entry = (await app.store.ledger(W38))[ALICE]
    assert entry.state is State.SENT and IN_DOUBT not in entry.parts


async def test_a_part_in_doubt_is_resent_once(long_app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    app = long_app
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    fake_tg.hang[ALICE] = 2.0  # part 1 arrives, its answer comes after the client's 1 s read timeout
    caster = await broadcaster(app, tg_bot, clock)
    first = await caster.publish(LONG_WEEK)
    assert first.unknown == 1 and not first.done
    entry = (await app.store.ledger(LONG_WEEK))[ALICE]
    assert len(entry.parts) >= 2 and entry.parts[:2] == (IN_DOUBT, None) and entry.doubts == 1
    clock.now += timedelta(minutes=2)
    second = await caster.publish(LONG_WEEK)  # part 1 again (answered this time), then the rest
    assert second.sent == 1 and second.done
    entry = (await app.store.ledger(LONG_WEEK))[ALICE]
    assert all(m is not None and m > 0 for m in entry.parts) and entry.doubts == 0
    assert len(digest_parts(fake_tg, ALICE)) == len(entry.parts) + 1  # part 1 arrived twice: one extra copy


async def test_telegram_unreachable_then_back(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, broadcast_settings: Settings
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    await (await broadcaster(app, tg_bot, clock)).prepare(W38)
    port = int(fake_tg.url.rsplit(":", 1)[1])
    await fake_tg.stop()  # Telegram is down: connections are refused
    down = await publish(app, tg_bot, clock)
    assert (down.failed, down.unknown, down.done) == (2, 0, False)
    assert await app.store.done_report(W38) is None  # owed a retry
    assert "not sent: NotSent: cannot connect" in (await app.store.ledger(W38))[ALICE].last_error
    await fake_tg.start(port)  # and back
    clock.now += timedelta(minutes=2)
    back = await publish(app, tg_bot, clock)
    assert (back.sent, back.done) == (2, True)
    assert len(digest_parts(fake_tg, ALICE)) == 1


async def test_a_configured_channel_that_is_also_subscribed_gets_it_once(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, CHANNEL, ChatKind.CHANNEL)
    app.settings.channels = ["@hf_weekly_ko", str(CHANNEL)]
    report = await publish(app, tg_bot, clock)
    assert report.chats == 1 and len(digest_parts(fake_tg, CHANNEL)) == 1


async def test_two_publishers_send_each_chat_once(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    for user in range(6000, 6030):
        fake_tg.add_chat(user, "private")
        await subscribe(app, user, ChatKind.PRIVATE)
    fake_tg.delay = 0.01
    first, second = await broadcaster(app, tg_bot, clock), await broadcaster(app, tg_bot, clock)
    results = await asyncio.gather(first.publish(W38), second.publish(W38), return_exceptions=True)
    assert sum(isinstance(r, AlreadyPublishing) for r in results) == 1
    parts = len(digest_parts(fake_tg, 6000))
    for user in range(6000, 6030):
        assert len(digest_parts(fake_tg, user)) == parts
    assert len([s for s in fake_tg.sent if s.method == "sendMessage"]) == 30 * parts


async def test_a_short_outage_gives_nobody_up(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    chats = range(8000, 8005)
    for chat in chats:  # a gateway in trouble: the next ten sends to them are answered 502
        fake_tg.add_chat(chat, "private")
        await subscribe(app, chat, ChatKind.PRIVATE)
        fake_tg.fail_next(chat, ApiError(502, "Bad Gateway"), times=2)
    runs: list[Report] = []
    while not (runs and runs[-1].done):
        runs.append(await publish(app, tg_bot, clock))
        assert runs[-1].gave_up == 0
        clock.now += timedelta(hours=1)
        assert len(runs) <= 4, [r.line() for r in runs]
    assert [r.failed for r in runs] == [5, 5, 0]  # Telegram's gateway said so: not sent, not in doubt
    assert {chat: len(digest_parts(fake_tg, chat)) for chat in chats} == dict.fromkeys(chats, 1)


async def test_a_chat_is_given_up_only_after_failing_for_hours(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    fake_tg.fail_next(BOB, ApiError(500, "Internal Server Error"), times=100)
    started = clock.now
    report = await publish(app, tg_bot, clock)
    while report.gave_up == 0:
        retry = await app.store.retry_at(W38)
        assert retry is not None and retry > clock.now
        clock.now = retry
        report = await publish(app, tg_bot, clock)
    assert clock.now - started >= timedelta(hours=6)
    entry = (await app.store.ledger(W38))[BOB]
    assert entry.state is State.GAVE_UP and entry.failures >= 5 and "Internal Server Error" in entry.last_error
    assert report.done and await app.store.done_report(W38) is not None  # nobody is owed anything more
    assert any("포기한 대화 1곳" in t and str(BOB) in t for t in admin_texts(fake_tg))
    assert len(digest_parts(fake_tg, ALICE)) == 1


@pytest.mark.parametrize(
    "body",
    [b"<html><body>502 Bad Gateway</body></html>", b'{"ok": true, "result": {"chat": {"id": 7}}}'],
    ids=["not-json", "not-a-message"],
)
async def test_an_answer_the_client_cannot_read_fails_that_chat_only(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, body: bytes
) -> None:
    await everyone(app)
    fake_tg.garbage[BOB] = body  # delivered, then answered with something that is not a message (no id)
    report = await publish(app, tg_bot, clock)
    assert report.sent == 3 and report.failed + report.unknown == 1
    entry = (await app.store.ledger(W38))[BOB]
    assert entry.state is State.FAILED and entry.last_error and entry.retry_at is not None
    for chat in (ALICE, GROUP, FORUM):
        assert digest_parts(fake_tg, chat)


async def test_a_configured_channel_has_one_identity(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    app.settings.channels = ["@hf_weekly_ko"]
    fake_tg.method_failures["getChat"].append(ApiError(502, "Bad Gateway"))
    first = await publish(app, tg_bot, clock)
    assert (first.unresolved, first.done) == (1, False) and digest_parts(fake_tg, CHANNEL) == []
    assert await app.store.ledger(W38) == {}  # never recorded (nor sent) under its @name
    clock.now += timedelta(minutes=10)
    second = await publish(app, tg_bot, clock)
    assert (second.sent, second.done) == (1, True)
    assert set(await app.store.ledger(W38)) == {CHANNEL} and len(digest_parts(fake_tg, CHANNEL)) == 1


async def test_a_forum_topic_that_is_gone_falls_back_to_the_chat(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, FORUM, ChatKind.SUPERGROUP, thread=42)
    fake_tg.fail_next(FORUM, ApiError(400, "Bad Request: message thread not found"))
    report = await publish(app, tg_bot, clock)
    assert report.sent == 1
    [sent] = fake_tg.to(FORUM)
    assert "message_thread_id" not in sent.params


# --- source gate ---------------------------------------------------------------------------------


async def test_source_gate_holds_a_short_week(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.weeks["2025-W30"] = week_items("2026-W14")  # the real week with 9 papers
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    with pytest.raises(HeldError, match="2025-W30 has 9 papers"):
        await publish(app, tg_bot, clock, IsoWeek(2025, 30))
    assert fake_tg.to(ALICE) == []


# --- healing -------------------------------------------------------------------------------------


async def test_pending_papers_are_healed_in_place(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, GROUP, ChatKind.GROUP)
    fake_claude.default = "overloaded"
    caster = await broadcaster(app, tg_bot, clock)
    report = await caster.publish(W38)
    assert report.sent == 2 and report.pending_papers == 10
    sent = fake_tg.to(ALICE)
    assert all("번역 준비 중" in parse_telegram_html(s.text) for s in sent)
    assert any("번역 대기 10편" in t for t in admin_texts(fake_tg))

    await heal(app, tg_bot, clock)  # Claude still down: nothing edited
    assert not [s for s in fake_tg.sent if s.method == "editMessageText"]

    fake_claude.default = "good"
    await heal(app, tg_bot, clock)
    for chat in (ALICE, GROUP):
        current = [fake_tg.messages[(chat, s.message_id)] for s in fake_tg.to(chat) if s.method == "sendMessage"]
        assert all(m.method == "editMessageText" for m in current)
        text = "".join(parse_telegram_html(m.text) for m in current)
        assert "번역 준비 중" not in text and "한국어 제목: Scaling Agents via Continual Pre-training" in text
    assert any("대기 중이던 번역을 마쳤습니다" in t for t in admin_texts(fake_tg))
    assert await app.store.heal_records() == {}


async def test_healing_gives_up_after_72_hours(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    fake_claude.default = "overloaded"
    caster = await broadcaster(app, tg_bot, clock)
    await caster.publish(W38)
    clock.now += timedelta(hours=73)
    await heal(app, tg_bot, clock)
    assert await app.store.heal_records() == {}
    assert any("72시간" in t for t in admin_texts(fake_tg))


# --- the scheduler -------------------------------------------------------------------------------


async def scheduler(app: App, bot: Bot, clock: Clock) -> WeeklyScheduler:
    notify = admin_notifier(Outbox(bot, app.store, app.settings.tz), app.settings)
    return WeeklyScheduler(
        await broadcaster(app, bot, clock), healer(app, bot, clock), app.store, app.settings, clock=clock,
        notify=notify, alerts=Alerts(app.store, notify),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("now", "owed"),
    [
        (datetime(2025, 9, 21, 23, 59, tzinfo=UTC), None),  # Monday 08:59 Seoul: the last run was 7 days ago
        (datetime(2025, 9, 22, 0, 0, tzinfo=UTC), IsoWeek(2025, 38)),  # Monday 09:00 Seoul
        (datetime(2025, 9, 24, 12, 0, tzinfo=UTC), IsoWeek(2025, 38)),  # Wednesday: within 3 days
        (datetime(2025, 9, 25, 0, 0, 1, tzinfo=UTC), None),  # Thursday 09:00:01: more than 3 days late
        (datetime(2025, 9, 29, 0, 0, tzinfo=UTC), IsoWeek(2025, 39)),
    ],
)
def test_owed_week(settings: Settings, now: datetime, owed: IsoWeek | None) -> None:
    assert owed_week(settings, now) == owed


async def test_scheduler_on_time_once(app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    clock.now = datetime(2025, 9, 21, 23, 59, tzinfo=UTC)  # 08:59 Seoul: nothing owed yet
    jobs = await scheduler(app, tg_bot, clock)
    await jobs.tick()
    assert digest_parts(fake_tg, ALICE) == []
    clock.now = MONDAY_9
    await jobs.tick()
    parts = digest_parts(fake_tg, ALICE)
    assert parts and "2025-W38" in parse_telegram_html(parts[0])
    clock.now += timedelta(minutes=1)
    await jobs.tick()
    assert digest_parts(fake_tg, ALICE) == parts  # not twice


async def test_scheduler_catches_up_once_after_downtime(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    clock.now = datetime(2025, 9, 24, 5, 0, tzinfo=UTC)  # down since Sunday, back on Wednesday
    await (await scheduler(app, tg_bot, clock)).tick()
    parts = digest_parts(fake_tg, ALICE)
    assert parts
    await (await scheduler(app, tg_bot, clock)).tick()  # another restart: already done
    assert digest_parts(fake_tg, ALICE) == parts


async def test_scheduler_skips_a_run_outside_the_window(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    clock.now = datetime(2025, 9, 26, 5, 0, tzinfo=UTC)  # Friday: 3 days and 20 hours late
    await (await scheduler(app, tg_bot, clock)).tick()
    assert digest_parts(fake_tg, ALICE) == []


async def test_scheduler_holds_and_retries_a_short_week(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.weeks["2025-W38"] = week_items("2025-W38")[:9]
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    jobs = await scheduler(app, tg_bot, clock)
    await jobs.tick()
    assert digest_parts(fake_tg, ALICE) == []
    assert any("보류" in t for t in admin_texts(fake_tg))
    hold = await app.store.get_hold(W38)
    assert hold is not None and "9 papers" in hold.reason

    clock.now += timedelta(minutes=10)
    await jobs.tick()  # not yet 30 minutes: no new attempt
    assert fake_hf.api_calls == 1

    fake_hf.weeks["2025-W38"] = week_items("2025-W38")  # the tenth paper appears
    clock.now += timedelta(minutes=25)
    await jobs.tick()  # a held run fetches the ranking again
    assert fake_hf.api_calls == 2
    parts = digest_parts(fake_tg, ALICE)
    assert parts and "Top 10" in parse_telegram_html(parts[0])
    assert await app.store.get_hold(W38) is None


async def test_scheduler_gives_up_a_hold_after_12_hours(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.weeks["2025-W38"] = week_items("2025-W38")[:9]
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    jobs = await scheduler(app, tg_bot, clock)
    await jobs.tick()
    for _ in range(25):  # every 30 minutes for 12 and a half hours
        clock.now += timedelta(minutes=30)
        await jobs.tick()
    assert fake_hf.api_calls == 24  # the first try and 23 retries within 12 hours
    assert any("포기했습니다" in t for t in admin_texts(fake_tg))
    assert digest_parts(fake_tg, ALICE) == []


async def test_a_run_that_loses_its_lock_starts_no_new_chat(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    for user in range(7000, 7040):
        fake_tg.add_chat(user, "private")
        await subscribe(app, user, ChatKind.PRIVATE)
    fake_tg.delay = 0.05
    short_lock = app.settings.model_copy(update={"publish_lock_seconds": 1.0, "broadcast_concurrency": 2})
    caster = await broadcaster(app, tg_bot, clock, short_lock)
    run = asyncio.create_task(caster.publish(W38))
    await fake_tg.wait_for(lambda: len(fake_tg.sent) >= 4)
    await app.store.expire_publish_lock(W38)  # as if it expired: another process may take over
    report = await run
    assert not report.complete and report.sent < 40
    assert await app.store.done_report(W38) is None
    rest = await publish(app, tg_bot, clock)
    assert rest.sent == 40 - report.sent and rest.complete
    assert sorted(s.chat_id for s in fake_tg.sent) == list(range(7000, 7040))  # each once


async def test_a_full_redis_fails_the_tick_not_the_scheduler_and_admins_hear_once(
    broadcast_settings: Settings, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    redis_proc = await start_redis_server(port)
    try:
        async with open_app(broadcast_settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"}),
                            clock=clock) as full:  # fmt: skip
            await subscribe(full, ALICE, ChatKind.PRIVATE)
            server = Redis(port=port)
            await server.config_set("maxmemory", "1")  # full: reads work, writes are refused
            jobs = await scheduler(full, tg_bot, clock)
            for _ in range(3):  # minute after minute
                await jobs.tick()
                clock.now += timedelta(minutes=1)
            assert caplog.text.count("Scheduled work failed, will retry") == 3
            alerts = [t for t in admin_texts(fake_tg) if "정기 작업" in t]
            assert len(alerts) == 1 and "StoreError" in alerts[0] and "maxmemory" in alerts[0]
            assert digest_parts(fake_tg, ALICE) == []
            await server.config_set("maxmemory", "0")
            await server.aclose()
            await jobs.tick()
            assert digest_parts(fake_tg, ALICE)  # and once Redis takes writes again, the week goes out
    finally:
        redis_proc.terminate()
        await redis_proc.wait()


# --- what an independent review found -----------------------------------------------------------


async def test_the_lock_is_renewed_while_a_cold_week_builds(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    """A first build (Claude) takes longer than the lock lasts; no second process may take over meanwhile."""
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    short = app.settings.model_copy(update={"publish_lock_seconds": 1.0})
    fake_claude.gate.clear()
    run = asyncio.create_task((await broadcaster(app, tg_bot, clock, short)).publish(W38))
    await fake_claude.wait_for(lambda: fake_claude.in_flight > 0)
    other = app.store.publish_lock(W38, timeout=timedelta(seconds=1))
    assert not await other.acquire(wait=2.0)  # twice the lock's life: renewed all along
    fake_claude.gate.set()
    report = await run
    assert report.sent == 1 and len(digest_parts(fake_tg, ALICE)) == 1


async def test_a_part_is_not_sent_a_third_time_without_an_answer(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    for _ in range(2):  # each time Telegram takes the message and never answers
        fake_tg.hang[ALICE] = 2.0
        report = await publish(app, tg_bot, clock)
        clock.now += timedelta(hours=1)
    assert report.gave_up == 1 and report.done
    entry = (await app.store.ledger(W38))[ALICE]
    assert entry.state is State.GAVE_UP and "never with a known outcome" in entry.last_error
    assert len(digest_parts(fake_tg, ALICE)) == 2  # one extra copy at most, never more
    assert (await publish(app, tg_bot, clock)).gave_up == 1 and len(digest_parts(fake_tg, ALICE)) == 2
    assert any("포기한 대화 1곳" in t for t in admin_texts(fake_tg))


async def test_a_manual_publish_ends_a_hold(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    fake_hf.weeks["2025-W38"] = week_items("2025-W38")[:9]
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await (await scheduler(app, tg_bot, clock)).tick()
    assert await app.store.get_hold(W38) is not None
    fake_hf.weeks["2025-W38"] = week_items("2025-W38")
    clock.now += timedelta(minutes=6)  # the short snapshot is fetched again
    assert (await publish(app, tg_bot, clock)).done  # an admin's /publish
    assert await app.store.get_hold(W38) is None


async def test_chats_owed_any_week_are_retried(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram, fake_hf: FakeHF
) -> None:
    """Not only the scheduled week: an older week published by hand is retried for its owed chats too."""
    w37 = IsoWeek(2025, 37)
    fake_hf.weeks[str(w37)] = week_items("2025-W37")
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    fake_tg.fail_next(ALICE, ApiError(500, "Internal Server Error"))
    assert not (await publish(app, tg_bot, clock, w37)).done
    jobs = await scheduler(app, tg_bot, clock)
    clock.now += timedelta(minutes=2)
    await jobs.tick()  # publishes the owed 2025-W38, and retries 2025-W37's owed chat
    assert (await app.store.ledger(w37))[ALICE].state is State.SENT
    assert await app.store.retry_at(w37) is None


async def test_a_configured_channel_that_does_not_exist_does_not_keep_the_week_open(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    app.settings.channels = ["@no_such_channel"]
    report = await publish(app, tg_bot, clock)
    assert report.done and report.sent == 1
    assert sum("찾지 못해 건너뜁니다" in t for t in admin_texts(fake_tg)) == 1


async def test_a_configured_channel_that_refuses_is_not_asked_again_that_week(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    await subscribe(app, ALICE, ChatKind.PRIVATE)
    await subscribe(app, BOB, ChatKind.PRIVATE)
    app.settings.channels = [str(CHANNEL)]
    fake_tg.fail_next(CHANNEL, ApiError(403, "Forbidden: bot is not a member of the channel chat"))
    fake_tg.fail_next(BOB, ApiError(500, "Internal Server Error"))
    await publish(app, tg_bot, clock)
    clock.now += timedelta(minutes=2)
    again = await publish(app, tg_bot, clock)  # BOB's retry
    assert (again.sent, again.inactive) == (1, 1)
    assert [c for _, c, _ in fake_tg.rejected].count(CHANNEL) == 1 and not digest_parts(fake_tg, CHANNEL)


async def test_a_migrated_group_whose_supergroup_subscribed_too_gets_it_once(
    app: App, tg_bot: Bot, clock: Clock, fake_tg: FakeTelegram
) -> None:
    new_id = -1009999
    fake_tg.add_chat(new_id, "supergroup", "ML 스터디")
    await subscribe(app, GROUP, ChatKind.GROUP)
    await subscribe(app, new_id, ChatKind.SUPERGROUP, thread=5)
    fake_tg.fail_next(GROUP, migrated(new_id))
    await publish(app, tg_bot, clock)
    assert len(digest_parts(fake_tg, new_id)) == 1
    moved = await app.store.get_subscription(new_id)
    assert moved is not None and moved.thread_id == 5  # its own subscription, kept


async def test_nothing_is_sent_after_the_bot_shut_down() -> None:
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    with pytest.raises(NotSent, match="shutting down"):
        await request.do_request("http://127.0.0.1:9/botX/sendMessage", "POST")
