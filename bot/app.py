"""Composition root: builds every client and service once and closes them in reverse order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
import fakeredis
from anthropic import AsyncAnthropic
from redis.asyncio import BlockingConnectionPool, Redis
from telegram import Bot, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, Defaults

from bot import __version__
from bot.config import ConfigError, Settings, config_dir
from bot.deliver import Broadcaster, Notify
from bot.digest import Clock, DigestService, utcnow
from bot.health import HealthServer
from bot.schedule import WeeklyScheduler
from bot.sources.hf import HFSource
from bot.store import Store
from bot.telegram_http import AiohttpRequest, UpdatesRequest
from bot.translate import PromptConfig, Translator

if TYPE_CHECKING:
    from bot.fastlane import FastLane  # imported where used: it imports bot.commands, which imports this module

log = logging.getLogger(__name__)

CLAUDE_TIMEOUT = 180.0
REDIS_CONNECTIONS = 32
TELEGRAM_CONNECTIONS = 8
CONCURRENT_UPDATES = 64


@dataclass
class App:
    settings: Settings
    store: Store
    source: HFSource
    translator: Translator | None
    digests: DigestService


def admin_notifier(bot: Bot, settings: Settings) -> Notify:
    """Tell every admin something in a private message; a failure to tell is logged, never raised."""

    async def notify(text: str) -> None:
        for admin in settings.admins:
            try:
                await bot.send_message(admin, text, parse_mode=None)
            except TelegramError as exc:
                log.warning("Could not tell admin %s: %s", admin, exc)

    return notify


def make_bot(settings: Settings) -> Bot:
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        request=AiohttpRequest(connections=TELEGRAM_CONNECTIONS),
    )


@dataclass
class TelegramParts:
    application: Application  # type: ignore[type-arg]
    broadcaster: Broadcaster
    fast_lane: FastLane  # answers cached /week and /latest from long polling's raw updates


def build_application(app: App, clock: Clock = utcnow) -> TelegramParts:
    """The python-telegram-bot Application with every handler, the Broadcaster on its bot, and the
    fast lane in front of its getUpdates."""
    from bot.commands import Commands  # here, not at the top: commands imports App from this module
    from bot.fastlane import FastLane

    if app.settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    request, updates_request = AiohttpRequest(connections=TELEGRAM_CONNECTIONS), UpdatesRequest(connections=1)
    application = (
        Application.builder()
        .token(app.settings.telegram_bot_token.get_secret_value())
        .base_url(app.settings.telegram_api_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(CONCURRENT_UPDATES)  # one slow /week build must not hold up anyone else's command
        # aiohttp instead of httpx under python-telegram-bot: see bot/telegram_http.py for why.
        .request(request)
        .get_updates_request(updates_request)
        .build()
    )
    broadcaster = Broadcaster(
        application.bot, app.store, app.digests, app.settings, clock=clock,
        notify=admin_notifier(application.bot, app.settings),
    )  # fmt: skip
    commands = Commands(app, clock, broadcaster)
    commands.register(application)
    fast_lane = FastLane(application, commands, app.digests, request)
    updates_request.take = fast_lane.take
    return TelegramParts(application, broadcaster, fast_lane)


@asynccontextmanager
async def running_bot(
    app: App,
    *,
    clock: Clock = utcnow,
    poll_timeout: int = 30,
    schedule: bool = True,
    webhook_url: str | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot (long polling, or with `webhook_url` a webhook server), publishing weekly with `schedule`,
    until the block ends. Several webhook replicas may share one Redis: the publish lock and the
    ledger keep every week's sends exactly once."""
    from bot.commands import COMMANDS

    parts = build_application(app, clock)
    application, broadcaster = parts.application, parts.broadcaster
    scheduler = WeeklyScheduler(
        broadcaster, app.store, app.settings, clock=clock, notify=admin_notifier(application.bot, app.settings)
    )
    async with application:  # initialize (getMe) and, at the end, shutdown
        await application.bot.set_my_commands(COMMANDS)
        await application.start()
        assert application.updater is not None
        if webhook_url:
            settings = app.settings
            await application.updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(webhook_url).path.lstrip("/"),
                webhook_url=webhook_url,
                secret_token=settings.webhook_secret(),
                allowed_updates=Update.ALL_TYPES,
            )
            log.info(
                "Bot @%s receives updates at %s (port %d)", application.bot.username, webhook_url, settings.webhook_port
            )
        else:
            await application.updater.start_polling(timeout=poll_timeout, allowed_updates=Update.ALL_TYPES)
            log.info("Bot @%s is polling for updates", application.bot.username)
        if schedule:
            scheduler.start()
        health = HealthServer(app.store, application, app.settings.http_port) if app.settings.http_port else None
        if health is not None:
            await health.start()
        try:
            yield application
        finally:
            if health is not None:
                await health.stop()
            await application.updater.stop()  # no new updates
            await parts.fast_lane.aclose()  # answers in flight finish, or go to the handlers
            await scheduler.stop()  # a publish under way finishes the sends in flight, starts no more
            await application.stop()


@asynccontextmanager
async def open_app(settings: Settings, *, translate: bool = True, clock: Clock = utcnow) -> AsyncIterator[App]:
    """Everything the CLI and the bot need. `translate=False` builds no Claude client (no key needed)."""
    async with AsyncExitStack() as stack:
        if settings.redis_url:
            # Blocking: a burst of concurrent commands waits for a free connection instead of failing.
            pool = BlockingConnectionPool.from_url(
                settings.redis_url, decode_responses=True, max_connections=REDIS_CONNECTIONS, timeout=10
            )
            redis = Redis.from_pool(pool)
        else:  # the command line says so to its user: nothing persists
            redis = fakeredis.FakeAsyncRedis(decode_responses=True)
        store = Store(redis, prefix=settings.redis_prefix)
        stack.push_async_callback(store.aclose)
        await store.ping()

        session = aiohttp.ClientSession(headers={"User-Agent": f"hfweekly/{__version__}"})
        stack.push_async_callback(session.close)
        source = HFSource(session, settings.hf_base_url, attempts=settings.hf_max_attempts)

        translator = None
        if translate:
            if settings.anthropic_api_key is None:
                raise ConfigError("ANTHROPIC_API_KEY is not set")
            try:
                prompt = PromptConfig.load(config_dir())
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
            client = AsyncAnthropic(
                api_key=settings.anthropic_api_key.get_secret_value(),
                base_url=settings.anthropic_base_url,
                max_retries=settings.claude_max_retries,  # the SDK retries 408/409/429/5xx/529
                timeout=CLAUDE_TIMEOUT,
            )
            stack.push_async_callback(client.close)
            translator = Translator(
                client,
                store,
                prompt,
                model=settings.model,
                concurrency=settings.translate_concurrency,
                max_tokens=settings.translate_max_tokens,
                tz=settings.tz,
                clock=clock,
            )
        digests = DigestService(source, store, translator, top_n=settings.top_n, tz=settings.tz, clock=clock)
        yield App(settings=settings, store=store, source=source, translator=translator, digests=digests)
