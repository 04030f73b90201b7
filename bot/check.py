"""`hfweekly check`: is this deployment able to work? One result per dependency, each with its fix."""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp
import anthropic
from redis.asyncio import Redis
from redis.exceptions import RedisError
from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.config import Settings, config_dir, config_file
from bot.prompt import PromptConfig
from bot.slots import next_run
from bot.telegram_http import AiohttpRequest

Result = tuple[bool, str, str]  # (ok, what, detail — for a failure, what to do)
TIMEOUT = 15.0


def print_checks(settings: Settings) -> bool:
    """`hfweekly check`: each check's line (secrets masked); True when all passed."""
    from bot.logs import redact

    results = asyncio.run(run_checks(settings))
    for ok, name, detail in results:
        print(f"{'✓' if ok else '✗'} {name}: {redact(detail, settings.secrets())}")
    return all(ok for ok, _, _ in results)


async def run_checks(settings: Settings) -> list[Result]:
    results = [check_config(settings)]
    results += await asyncio.gather(
        check_redis(settings), check_telegram(settings), check_claude(settings), check_hf(settings)
    )
    return results


def check_config(settings: Settings) -> Result:
    try:
        prompt = PromptConfig.load(config_file("prompt.md"), config_file("glossary.toml"))
    except ValueError as exc:
        return (
            False,
            "configuration",
            f"{exc} — fix: correct or remove the file in {config_dir()} (the packaged default is used without it)",
        )
    upcoming = next_run(settings, datetime.now(settings.tz))
    admins = ", ".join(map(str, settings.admins)) or "none (fix: set HFWEEKLY_ADMINS to get alerts)"
    return (
        True,
        "configuration",
        (
            f"timezone {settings.timezone}, schedule '{settings.schedule}' (next {upcoming:%Y-%m-%d %H:%M %Z}), "
            f"top {settings.top_n}, model {settings.model}, prompt {prompt.hash}, admins {admins}"
        ),
    )


async def check_redis(settings: Settings) -> Result:
    if not settings.redis_url:
        return (
            False,
            "Redis",
            "REDIS_URL is not set — fix: set REDIS_URL=redis://HOST:6379/0 (without it nothing persists)",
        )
    client = Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        info = await client.info("server")
        return True, "Redis", f"redis {info.get('redis_version', '?')} answers"
    except RedisError as exc:
        return False, "Redis", f"no answer ({exc}) — fix: start Redis or correct REDIS_URL"
    finally:
        await client.aclose()


async def check_telegram(settings: Settings) -> Result:
    if settings.telegram_bot_token is None:
        return False, "Telegram", "TELEGRAM_BOT_TOKEN is not set — fix: create a bot with @BotFather and set it"
    bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url,
              request=AiohttpRequest(connections=1))  # fmt: skip
    try:
        async with bot:  # getMe
            return True, "Telegram", f"bot @{bot.username} (id {bot.id})"
    except InvalidToken:
        return False, "Telegram", "the token was rejected — fix: copy TELEGRAM_BOT_TOKEN again from @BotFather"
    except TelegramError as exc:
        return False, "Telegram", f"cannot reach {settings.telegram_api_base_url} ({exc}) — fix: check the network"


async def check_claude(settings: Settings) -> Result:
    if settings.anthropic_api_key is None:
        return False, "Claude", "ANTHROPIC_API_KEY is not set — fix: create a key at console.anthropic.com and set it"
    client = anthropic.AsyncAnthropic(
        api_key=settings.anthropic_api_key.get_secret_value(), base_url=settings.anthropic_base_url, max_retries=1,
        timeout=TIMEOUT,
    )  # fmt: skip
    try:
        await client.messages.create(
            model=settings.model, max_tokens=16, messages=[{"role": "user", "content": "Reply with: ok"}]
        )
        return True, "Claude", f"model {settings.model} answers"
    except anthropic.AuthenticationError:
        return False, "Claude", "the API key was rejected — fix: set a valid ANTHROPIC_API_KEY"
    except anthropic.NotFoundError:
        return False, "Claude", f"model {settings.model} does not exist — fix: set HFWEEKLY_MODEL to a current model"
    except anthropic.APIError as exc:
        return False, "Claude", f"{type(exc).__name__} — fix: check the network, or try again later"
    finally:
        await client.close()


async def check_hf(settings: Settings) -> Result:
    url = f"{settings.hf_base_url.rstrip('/')}/api/daily_papers"
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, params={"limit": "1"}, timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as response,
        ):
            if response.status == 200 and isinstance(await response.json(content_type=None), list):
                return True, "Hugging Face", f"{url} answers"
            return False, "Hugging Face", f"{url} answered HTTP {response.status} — fix: try again later"
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return False, "Hugging Face", f"cannot reach {url} ({type(exc).__name__}) — fix: check the network"
