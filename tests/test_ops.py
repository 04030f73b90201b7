"""`hfweekly run` as an operator runs it: logs without secrets, JSON logs, a prompt exit on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot import texts
from bot.alerts import Alerts, admin_notifier
from bot.app import broadcaster, open_app, telegram_bot
from bot.config import Settings
from bot.heal import Healer
from bot.ledger import IN_DOUBT
from bot.models import ChatKind, Subscription
from bot.outbox import Outbox
from bot.schedule import WeeklyScheduler
from bot.store import Store
from bot.week import IsoWeek
from tests.conftest import ALICE, BOB, free_port, start_redis_server
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, item_2026, week_items
from tests.fakes.telegram import TOKEN, ApiError, FakeTelegram, Sent
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_cli import hfweekly

ANTHROPIC_KEY = "sk-ant-test-key-must-never-be-logged"
HF_TOKEN = "hf_test-token-must-never-be-logged"


async def answer(fake: FakeTelegram, user: int, text: str, expect: str) -> Sent:
    """Write `text` to a bot running in its own process; the message in the chat that comes to hold
    `expect` (a placeholder edited into it counts)."""

    def found() -> Sent | None:
        return next((m for (c, _), m in sorted(fake.messages.items()) if c == user and expect in
                     parse_telegram_html(m.text) and id(m) not in seen), None)  # fmt: skip

    seen = {id(m) for (c, _), m in fake.messages.items() if c == user}
    fake.message(user, user, text)
    await fake.wait_for(lambda: found() is not None, within=60)
    sent = found()
    assert sent is not None
    return sent


async def run_bot(env: dict[str, str], tmp_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.fixture
def run_env(cli_env: dict[str, str], fake_tg: FakeTelegram) -> dict[str, str]:
    return cli_env | {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{fake_tg.url}/bot",
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "HFWEEKLY_LOG_LEVEL": "DEBUG",
        "HFWEEKLY_SCHEDULE": "0 9 1 1 *",  # once a year: no publish while this test runs
        "HFWEEKLY_CATCH_UP": "1m",
        "PTB_TIMEDELTA": "true",
    }


@pytest.mark.parametrize("fmt", ["plain", "json"])
async def test_debug_logs_hold_no_secret_and_sigterm_stops_promptly(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_hf: FakeHF, fmt: str
) -> None:
    proc = await run_bot(run_env | {"HFWEEKLY_LOG_FORMAT": fmt, "HF_TOKEN": HF_TOKEN}, tmp_path)
    await fake_tg.wait_for(lambda: bool(fake_tg.commands), within=30)
    fake_tg.message(1001, 1001, "/week 2025-W38")  # a build: Hugging Face, Claude, Redis, Telegram
    fake_tg.message(1001, 1001, "/help")
    await fake_tg.wait_for(lambda: len(fake_tg.to(1001)) >= 3, within=30)
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)  # a generous bound: no timing asserted
    assert proc.returncode == 0
    log = err.decode()
    assert "DEBUG" in log and "getUpdates" in log  # it really logged at DEBUG, HTTP traffic included
    assert f"Bearer {HF_TOKEN}" in fake_hf.authorizations  # Hugging Face got the token…
    for secret in (TOKEN, TOKEN.split(":")[1], ANTHROPIC_KEY, HF_TOKEN):  # …and no log line has it
        assert secret not in log and secret not in out.decode()
    assert "***" in log  # what would have been the token is masked
    if fmt == "json":
        records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
        assert not [line for line in log.splitlines() if line and not line.startswith(("{", "hfweekly:"))]


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        ("refused", 2, "Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather"),
        ("unreachable", 1, "cannot reach Telegram at http://127.0.0.1:"),
        ("garbage", 1, "Telegram answered badly at"),
    ],
)
async def test_a_failed_start_says_what_failed_and_closes_everything(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, failure: str, status: int, message: str
) -> None:
    env = run_env | {"HFWEEKLY_LOG_LEVEL": "INFO"}
    if failure == "refused":
        fake_tg.method_failures["getMe"].append(ApiError(401, "Unauthorized"))
    elif failure == "garbage":
        fake_tg.method_failures["getMe"].append(b"<html><body>Bad Gateway</body></html>")
    else:
        env["TELEGRAM_API_BASE_URL"] = f"http://127.0.0.1:{free_port()}/bot"
    proc = await run_bot(env, tmp_path)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = err.decode()
    assert proc.returncode == status, log
    assert message in log.splitlines()[-1]  # the last word: one line saying what failed
    assert "Unclosed" not in log  # every client it opened was closed
    assert TOKEN not in log


async def test_a_revoked_token_stops_the_bot_with_status_1(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    proc = await run_bot(run_env | {"HFWEEKLY_LOG_LEVEL": "INFO"}, tmp_path)
    await fake_tg.wait_for(lambda: bool(fake_tg.commands), within=30)
    for _ in range(3):  # every getUpdates from now on: the token was revoked at @BotFather
        fake_tg.method_failures["getUpdates"].append(ApiError(401, "Unauthorized"))
    fake_tg.message(1001, 1001, "/help")  # ends the poll under way
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = err.decode()
    assert proc.returncode == 1, log
    assert log.count("CRITICAL") == 1 and "Telegram refuses the bot's token (401 Unauthorized" in log
    assert "Telegram refused TELEGRAM_BOT_TOKEN while the bot ran" in log.splitlines()[-1]
    assert "Unclosed" not in log and TOKEN not in log


async def test_sigterm_during_a_build_stops_without_waiting_for_it(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_claude: FakeClaude
) -> None:
    fake_claude.gate.clear()  # Claude is slow today: the build waits for it
    proc = await run_bot(run_env | {"HFWEEKLY_LOG_LEVEL": "INFO"}, tmp_path)
    await fake_tg.wait_for(lambda: bool(fake_tg.commands), within=30)
    fake_tg.message(1001, 1001, "/week 2025-W38")
    await fake_claude.wait_for(lambda: fake_claude.in_flight > 0, within=30)
    proc.send_signal(signal.SIGTERM)
    # Claude's gate stays shut until the process is gone: it stopped without the build it was waiting for.
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)  # a generous bound: no timing asserted
    assert proc.returncode == 0, err.decode()[-2000:]
    fake_claude.gate.set()


def readme_status_of_a_stopped_run() -> int:
    """The exit status README gives `hfweekly run` stopped by a signal: of the statuses it lists ("종료 코드
    …: 0 …, 1 …, …"), the one whose description names `hfweekly run` and SIGTERM, else the one that names
    SIGTERM for every command."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    paragraph = re.search(r"^종료 코드.*?(?:\n\n|\Z)", readme, re.MULTILINE | re.DOTALL)
    assert paragraph is not None, "README lists the exit statuses in a paragraph that begins with 종료 코드"
    entries = re.finditer(r"(?:: |,\s+)(\d+) (.+?)(?=,\s+\d+ |\.\s*\Z)", paragraph[0].strip(), re.DOTALL)
    described = {int(m[1]): m[2] for m in entries}
    [status] = [s for s, text in described.items() if "SIGTERM" in text and "hfweekly run" in text] or [
        s for s, text in described.items() if "SIGTERM" in text
    ]
    return status


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_the_bot_with_the_status_readme_gives(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, sig: signal.Signals
) -> None:
    proc = await run_bot(run_env | {"HFWEEKLY_LOG_LEVEL": "INFO"}, tmp_path)
    await fake_tg.wait_for(lambda: bool(fake_tg.commands), within=30)
    proc.send_signal(sig)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == readme_status_of_a_stopped_run(), err.decode()[-2000:]


async def test_sigterm_during_builds_leaves_their_placeholders_asking_to_send_again(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_claude: FakeClaude, fake_hf: FakeHF
) -> None:
    abstract = "We show that a small model beats a large one by 5% on every benchmark we tried, at a tenth of the cost."
    fake_hf.papers["2601.00001"] = item_2026("2601.00001", "Only on Hugging Face", abstract, 77)
    fake_claude.gate.clear()  # Claude is slow today: the /week build and the /paper translation wait for it
    proc = await run_bot(run_env | {"HFWEEKLY_LOG_LEVEL": "INFO"}, tmp_path)
    await fake_tg.wait_for(lambda: bool(fake_tg.commands), within=30)
    fake_tg.message(ALICE, ALICE, "/week 2025-W38")
    fake_tg.message(BOB, BOB, "/paper 2601.00001")

    def placeholders() -> list[str]:
        return [parse_telegram_html(m.text) for chat in (ALICE, BOB) for m in fake_tg.to(chat)]

    await fake_tg.wait_for(lambda: sum("생성 중" in text for text in placeholders()) == 2, within=30)
    await fake_claude.wait_for(lambda: fake_claude.in_flight > 0, within=30)
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    shown = {chat: [parse_telegram_html(m.text) for (c, _), m in sorted(fake_tg.messages.items()) if c == chat]
             for chat in (ALICE, BOB)}  # fmt: skip
    assert shown == {ALICE: [texts.INTERRUPTED], BOB: [texts.INTERRUPTED]}, err.decode()[-2000:]
    fake_claude.gate.set()


async def test_a_health_port_in_use_is_said_plainly(run_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await run_bot(run_env | {"HFWEEKLY_HTTP_PORT": str(port)}, tmp_path)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    last = err.decode().splitlines()[-1]
    assert proc.returncode == 2
    assert f"cannot serve /healthz and /metrics on 127.0.0.1:{port}" in last and "HFWEEKLY_HTTP_PORT" in last


async def owed_week_for(chats: range, fake_tg: FakeTelegram, fake_hf: FakeHF, store: Store) -> IsoWeek:
    """The week a bot started now owes its subscribers, with ten papers, and `chats` subscribed to it."""
    owed = IsoWeek.last_completed(datetime.now(UTC), ZoneInfo("Asia/Seoul"))
    fake_hf.weeks[str(owed)] = week_items("2025-W38")
    now = datetime.now(UTC)
    for chat in chats:
        fake_tg.add_chat(chat, "private")
        await store.save_subscription(Subscription(chat, ChatKind.PRIVATE, "", True, now, now))
    return owed


async def test_sigterm_during_a_broadcast_finishes_the_sends_in_flight(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_hf: FakeHF, redis: Redis, settings: Settings
) -> None:
    chats = range(30_000, 30_060)
    store = Store(redis, prefix=settings.redis_prefix)
    owed = await owed_week_for(chats, fake_tg, fake_hf, store)
    fake_tg.delay = 0.1
    env = run_env | {
        "HFWEEKLY_SCHEDULE": "* * * * *",
        "HFWEEKLY_BROADCAST_CONCURRENCY": "4",
        "HFWEEKLY_LOG_LEVEL": "INFO",
    }
    proc = await run_bot(env, tmp_path)
    await fake_tg.wait_for(lambda: len([s for s in fake_tg.sent if s.chat_id in chats]) >= 10, within=60)
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)  # a generous bound: no timing asserted
    assert proc.returncode == 0
    assert "Stopped publishing" in err.decode()  # it stopped the run (the chats not sent to show it below)
    ledger = await store.ledger(owed)
    assert ledger and all(IN_DOUBT not in entry.parts for entry in ledger.values())  # nothing left in doubt
    sent_before = {s.chat_id for s in fake_tg.sent if s.chat_id in chats}
    assert len(sent_before) < len(chats)

    result = await hfweekly(env, "publish", str(owed), cwd=tmp_path)
    assert result.status == 0, result.err
    per_chat = Counter(s.chat_id for s in fake_tg.sent if s.chat_id in chats)
    assert set(per_chat) == set(chats) and set(per_chat.values()) == {1}  # everyone once, no one twice


async def get(url: str, within: float = 10.0) -> tuple[int, str]:
    """GET, waiting (up to `within` seconds) for the server to listen: it starts after the bot."""
    deadline = time.monotonic() + within
    while True:
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return response.status, await response.text()
        except aiohttp.ClientConnectorError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_healthz_metrics_and_a_redis_outage(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram
) -> None:
    redis_port, http_port = free_port(), free_port()
    redis_proc = await start_redis_server(redis_port)
    env = run_env | {
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HFWEEKLY_HTTP_PORT": str(http_port),
        "HFWEEKLY_LOG_LEVEL": "INFO",
    }
    bot = await run_bot(env, tmp_path)
    try:
        await fake_tg.wait_for(lambda: bool(fake_tg.commands), within=30)
        status, body = await get(f"http://127.0.0.1:{http_port}/healthz")
        health = json.loads(body)
        assert (status, health["ok"], health["role"], health["updates"]) == (200, True, "leader", "polling")
        assert health["leader"] == health["process"] and health["process"].endswith(f":{bot.pid}")
        await answer(fake_tg, 1001, "/subscribe", "구독을 시작했습니다")
        await answer(fake_tg, 1001, "/week 2025-W38", "Top 10")
        status, body = await get(f"http://127.0.0.1:{http_port}/metrics")
        assert status == 200
        assert 'hfweekly_active_subscribers{kind="private"} 1.0' in body
        assert 'hfweekly_translations_total{result="translated"} 10.0' in body
        assert 'hfweekly_translation_cache_total{result="miss"}' in body
        assert 'hfweekly_claude_tokens_total{kind="input"}' in body
        assert "hfweekly_digest_build_seconds_count" in body

        redis_proc.terminate()  # Redis goes away
        await redis_proc.wait()
        status, body = await get(f"http://127.0.0.1:{http_port}/healthz")
        assert status == 503 and "redis" in json.loads(body)["reason"]
        await answer(fake_tg, 1001, "/week 2025-W37", "잠시 후 다시 시도해 주세요")
        assert bot.returncode is None  # still running

        redis_proc = await start_redis_server(redis_port)  # Redis is back (empty: it kept nothing on disk)
        status, _ = await get(f"http://127.0.0.1:{http_port}/healthz")
        assert status == 200
        for _ in range(600):  # the lease, gone with Redis's data, is taken again at the next renewal
            if json.loads((await get(f"http://127.0.0.1:{http_port}/healthz"))[1])["leader"] == health["process"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the process did not take the lease again once Redis was back")
        await answer(fake_tg, 1001, "/help", "사용법")

        full = Redis(port=redis_port)  # Redis full: it answers reads, refuses writes
        await full.config_set("maxmemory", "1")
        status, body = await get(f"http://127.0.0.1:{http_port}/healthz")
        assert status == 503 and "used memory > 'maxmemory'" in json.loads(body)["reason"]
        await full.config_set("maxmemory", "0")
        await full.aclose()
        status, _ = await get(f"http://127.0.0.1:{http_port}/healthz")
        assert status == 200
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.communicate(), timeout=15)
        if redis_proc.returncode is None:
            redis_proc.terminate()
            await redis_proc.wait()


async def test_check_all_good_then_each_problem_with_its_fix(
    run_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF
) -> None:
    good = await hfweekly(run_env, "check", cwd=tmp_path)
    assert good.status == 0, good.out + good.err
    lines = good.out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "✓ configuration", "✓ Redis", "✓ Telegram", "✓ Claude", "✓ Hugging Face"
    ]  # fmt: skip
    assert "bot @hfweekly_test_bot" in good.out and "model claude-sonnet-5-5 answers" in good.out

    fake_hf.api_down = True
    bad_env = run_env | {"TELEGRAM_BOT_TOKEN": "999:wrong-token-for-this-bot", "REDIS_URL": "redis://127.0.0.1:9/0"}
    bad_env.pop("ANTHROPIC_API_KEY")
    bad = await hfweekly(bad_env, "check", cwd=tmp_path)
    assert bad.status == 1
    out = bad.out
    assert "✗ Redis: no answer" in out and "fix: start Redis or correct REDIS_URL" in out
    assert "✗ Telegram: the token was rejected — fix: copy TELEGRAM_BOT_TOKEN again from @BotFather" in out
    assert "✗ Claude: ANTHROPIC_API_KEY is not set — fix:" in out
    assert "✗ Hugging Face:" in out and "HTTP 500" in out
    assert "wrong-token-for-this-bot" not in out + bad.err


async def test_two_webhook_replicas_share_one_redis_and_publish_once(
    run_env: dict[str, str], tmp_path: Path, fake_tg: FakeTelegram, fake_hf: FakeHF, redis: Redis, settings: Settings
) -> None:
    chats = range(40_000, 40_040)
    store = Store(redis, prefix=settings.redis_prefix)
    owed = await owed_week_for(chats, fake_tg, fake_hf, store)
    fake_tg.delay = 0.02
    replicas = []
    for _ in range(2):  # both start their schedulers: both find the week owed
        port = free_port()
        env = run_env | {
            "HFWEEKLY_SCHEDULE": "* * * * *",
            "HFWEEKLY_WEBHOOK_PORT": str(port),
            "HFWEEKLY_LOG_LEVEL": "INFO",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--webhook-url", f"http://127.0.0.1:{port}/telegram", env=env,
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        replicas.append(proc)
    try:
        await fake_tg.wait_for(lambda: {s.chat_id for s in fake_tg.sent} >= set(chats), within=60)
        for _ in range(600):  # the run that sent them records the week as done; only that process sends
            if await store.done_report(owed) is not None:
                break
            await asyncio.sleep(0.1)
        await fake_tg.idle()
        per_chat = Counter(s.chat_id for s in fake_tg.sent if s.chat_id in chats)
        assert set(per_chat.values()) == {1}

        assert fake_tg.webhook is not None and fake_tg.webhook["url"].endswith("/telegram")
        fake_tg.message(1001, 1001, "/help")  # through the webhook
        await fake_tg.wait_for(lambda: bool(fake_tg.to(1001)), within=15)
        assert "사용법" in parse_telegram_html(fake_tg.to(1001)[0].text)
        assert fake_tg.webhook_answers == [200]
        forged = {"message": {"message_id": 1, "date": 0, "chat": fake_tg.chats[1001], "text": "/help"}}
        assert await fake_tg.post_with_secret(forged, "not-the-secret") == 403  # refused before any handler
        assert len(fake_tg.to(1001)) == 1
    finally:
        for proc in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc in replicas:
            _, err = await asyncio.wait_for(proc.communicate(), timeout=15)
            assert proc.returncode == 0, err.decode()[-2000:]


async def test_the_weekly_job_survives_a_redis_outage_and_publishes_when_it_is_back(
    settings: Settings, fake_tg: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    redis_proc = await start_redis_server(port)
    monday_9 = datetime(2025, 9, 22, 0, 0, 30, tzinfo=UTC)
    configured = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{port}/0",
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_api_base_url": f"{fake_tg.url}/bot",
            "send_rate": 0.0,
        }
    )
    try:
        async with open_app(configured, clock=lambda: monday_9) as app, telegram_bot(app) as (bot, limiter):
            await app.store.save_subscription(Subscription(1001, ChatKind.PRIVATE, "", True, monday_9, monday_9))
            notify = admin_notifier(Outbox(bot, app.store, configured.tz), configured)
            healer = Healer(app.digests, None, delivery=app.store, edits=app.store, clock=app.clock, notify=notify)
            jobs = WeeklyScheduler(
                broadcaster(app, bot, limiter), healer, app.store, configured, clock=app.clock, notify=notify,
                alerts=Alerts(app.store, notify),
            )  # fmt: skip
            redis_proc.terminate()
            await redis_proc.wait()
            await jobs.tick()  # Redis is down: the tick says so and returns; nothing raised, nothing sent
            assert "Scheduled work failed, will retry" in caplog.text
            assert fake_tg.to(1001) == []
            redis_proc = await start_redis_server(port)  # back, empty (it kept nothing): the subscription is re-added
            await app.store.save_subscription(Subscription(1001, ChatKind.PRIVATE, "", True, monday_9, monday_9))
            await jobs.tick()
            assert fake_tg.to(1001) and "2025-W38" in parse_telegram_html(fake_tg.to(1001)[0].text)
    finally:
        if redis_proc.returncode is None:
            redis_proc.terminate()
            await redis_proc.wait()
