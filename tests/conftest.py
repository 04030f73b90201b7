"""Fixtures: the fakes on loopback, the real Redis at REDIS_URL, settings that point at them."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.app import App, open_app
from bot.config import Settings
from tests.fakes.anthropic import FakeClaude
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF, week_items
from tests.fakes.telegram import FakeTelegram

os.environ.setdefault("PTB_TIMEDELTA", "true")  # python-telegram-bot's RetryAfter, without a deprecation warning

ADMIN, ALICE, BOB = 900, 1001, 1002
GROUP, FORUM, CHANNEL = -2001, -1002002, -1003003
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # a Thursday; every week used in tests has ended


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def eventually(check: Callable[[], Awaitable[object]], within: float = 30.0) -> None:
    """Wait for the event `check` says happened (asked every 10 ms), at most `within` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 (Redis has no event to wait for)
            await asyncio.sleep(0.01)


async def start_redis_server(port: int) -> asyncio.subprocess.Process:
    """A throwaway redis-server on `port` (no disk), once it answers PING; skips the test without the binary."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (scripts/test installs it when no Redis answers)")
    proc = await asyncio.create_subprocess_exec(
        server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    client = Redis(port=port)
    try:
        for _ in range(100):
            try:
                await client.ping()
                return proc
            except RedisError:
                await asyncio.sleep(0.1)
    finally:
        await client.aclose()
    proc.terminate()
    await proc.wait()
    raise AssertionError(f"redis-server did not answer on port {port}")


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own, so tests never see each other's keys (nor anyone's data)."""
    return f"hfwtest-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except Exception as exc:
        pytest.fail(f"no Redis answers at {REDIS_URL} ({exc}); run the tests with scripts/test")
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def fake_hf() -> AsyncIterator[FakeHF]:
    server = FakeHF()
    server.weeks["2025-W38"] = week_items("2025-W38")
    server.weeks["2025-W39"] = week_items("2025-W39", shape="2024")
    server.weeks["2026-W14"] = week_items("2026-W14")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_arxiv() -> AsyncIterator[FakeArxiv]:
    server = FakeArxiv()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_claude() -> AsyncIterator[FakeClaude]:
    server = FakeClaude()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    for user in (ADMIN, ALICE, BOB):
        server.add_chat(user, "private")
    server.add_chat(GROUP, "group", "ML 스터디")
    server.add_chat(FORUM, "supergroup", "논문 포럼", is_forum=True)
    server.add_chat(CHANNEL, "channel", "HF 주간 논문", username="hf_weekly_ko")
    server.set_member(GROUP, ALICE, "administrator")
    server.set_member(GROUP, BOB, "member")
    server.set_member(FORUM, ALICE, "creator", is_anonymous=False)
    yield server
    await server.stop()


@pytest.fixture
def settings(fake_hf: FakeHF, fake_claude: FakeClaude, fake_arxiv: FakeArxiv, redis: Redis, prefix: str) -> Settings:
    return Settings(
        arxiv_base_url=fake_arxiv.url,
        arxiv_html_base_url=fake_arxiv.url,
        anthropic_api_key=SecretStr("test-key-not-a-secret"),
        anthropic_base_url=fake_claude.url,
        redis_url=REDIS_URL,
        hf_base_url=fake_hf.url,
        redis_prefix=prefix,
        claude_max_retries=1,
        hf_max_attempts=2,
        http_port=0,
        brief_top=0,  # deep briefs at digest builds: tests/test_brief.py turns them on
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    async with open_app(settings, clock=lambda: NOW) as built:
        yield built


@pytest.fixture
def cli_env(settings: Settings, tmp_path: object) -> dict[str, str]:
    """The environment of an `hfweekly` subprocess pointed at the fakes (no real keys leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "HFWEEKLY_", "HF_", "REDIS_"))}
    assert settings.anthropic_api_key is not None
    env.update(
        ANTHROPIC_API_KEY=settings.anthropic_api_key.get_secret_value(),
        ANTHROPIC_BASE_URL=str(settings.anthropic_base_url),
        HF_BASE_URL=settings.hf_base_url,
        ARXIV_BASE_URL=settings.arxiv_base_url,
        ARXIV_HTML_BASE_URL=settings.arxiv_html_base_url,
        REDIS_URL=REDIS_URL,
        HFWEEKLY_REDIS_PREFIX=settings.redis_prefix,
        HFWEEKLY_CLAUDE_MAX_RETRIES="1",
        HFWEEKLY_HF_MAX_ATTEMPTS="2",
        HFWEEKLY_HTTP_PORT="0",
        HFWEEKLY_BRIEF_TOP="0",
    )
    return env
