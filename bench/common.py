"""What the benchmarks that run `hfweekly` as a process share."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from types import TracebackType

from redis.asyncio import Redis

from bot.models import ChatKind, Subscription
from bot.store import Store
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, week_items
from tests.fakes.telegram import TOKEN, FakeTelegram

WEEK = "2025-W38"


class World:
    """The fakes (Telegram, Hugging Face with WEEK's papers, Claude) on loopback, and the real Redis
    at REDIS_URL under a throwaway prefix whose keys are dropped at the end."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.tg, self.hf, self.claude = FakeTelegram(), FakeHF(), FakeClaude()
        self.hf.weeks[WEEK] = week_items(WEEK)
        self.redis_url = redis_url or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
        self.prefix = f"hfwbench-{uuid.uuid4().hex[:8]}"
        self.redis = Redis.from_url(self.redis_url, decode_responses=True)
        self.store = Store(self.redis, prefix=self.prefix)

    async def __aenter__(self) -> World:
        for server in (self.tg, self.hf, self.claude):
            await server.start()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await drop_keys(self.redis, self.prefix)
        await self.redis.aclose()
        for server in (self.tg, self.hf, self.claude):
            await server.stop()

    def env(self) -> dict[str, str]:
        """The environment of an `hfweekly` process pointed at this world."""
        return bot_env(self.tg, self.hf, self.claude, self.redis_url, self.prefix)

    async def subscribe(self, chats: range) -> None:
        """Private chats known to the fake Telegram and subscribed in Redis."""
        now = datetime.now(UTC)
        for chat in chats:
            self.tg.add_chat(chat, "private")
            await self.store.save_subscription(Subscription(chat, ChatKind.PRIVATE, f"user {chat}", True, now, now))


def bot_env(tg: FakeTelegram, hf: FakeHF, claude: FakeClaude, redis_url: str, prefix: str) -> dict[str, str]:
    """The environment of an `hfweekly` process pointed at the fakes (none of the caller's settings)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HFWEEKLY_", "ANTHROPIC_", "TELEGRAM_"))},
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"{tg.url}/bot",
        "ANTHROPIC_API_KEY": "bench-key",
        "ANTHROPIC_BASE_URL": claude.url,
        "HF_BASE_URL": hf.url,
        "REDIS_URL": redis_url,
        "HFWEEKLY_REDIS_PREFIX": prefix,
        "HFWEEKLY_LOG_LEVEL": "WARNING",
        "HFWEEKLY_HTTP_PORT": "0",
        "PTB_TIMEDELTA": "true",
    }


async def drop_keys(redis: Redis, *prefixes: str) -> None:
    """Delete every key a benchmark wrote under its prefixes."""
    for prefix in prefixes:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def own_redis() -> tuple[asyncio.subprocess.Process, str]:
    """A redis-server of the benchmark's own, so that MONITOR sees only the benchmark."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (scripts/test installs it)"
    proc = await asyncio.create_subprocess_exec(
        binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    for _ in range(100):
        try:
            await client.ping()
            break
        except Exception:
            await asyncio.sleep(0.1)
    await client.aclose()
    return proc, url


async def run_publish(env: dict[str, str], week: str) -> tuple[int, str, str, float]:
    """`hfweekly publish WEEK` in a process of its own: its exit status, output, errors and peak RSS
    in MB (GNU time writes the process's own max RSS)."""
    with tempfile.NamedTemporaryFile("r") as peak:
        proc = await asyncio.create_subprocess_exec(
            "/usr/bin/time", "-o", peak.name, "-f", "%M", sys.executable, "-m", "bot", "publish", week, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await proc.communicate()
        peak_kb = float(peak.read().split()[-1])
    if proc.returncode or os.environ.get("BENCH_DEBUG"):
        print(out.decode(), err.decode()[-2000:], file=sys.stderr)
    return proc.returncode or 0, out.decode(), err.decode(), peak_kb / 1024
