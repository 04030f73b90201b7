"""What the benchmarks that run `hfweekly` as a process share."""

from __future__ import annotations

import os

from redis.asyncio import Redis

from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF
from tests.fakes.telegram import TOKEN, FakeTelegram


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
