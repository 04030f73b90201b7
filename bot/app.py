"""Composition root: builds every client and service once and closes them in reverse order.

Only bot/__main__.py imports this module. Telegram's library is imported in the
functions that need it, so `hfweekly digest` and `hfweekly subscribers` start without it (and the
anthropic SDK is imported on the first question to Claude: bot/translate.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp

from bot import __version__
from bot.ask import Questions
from bot.brief import Briefs
from bot.clients import hf_sources, make_briefs, make_translator, redis_client
from bot.config import Settings
from bot.digest import Clock, DigestService, utcnow
from bot.errors import ConfigError, TelegramStartError, TokenRejected
from bot.figure import CaptionTranslator, Figures
from bot.ondemand import OnDemand
from bot.outbox import Outbox
from bot.search import ArchiveIndex
from bot.sources.arxiv import ArxivSource
from bot.sources.fulltext import FullTextSource
from bot.sources.hf import HFSource
from bot.store import Store
from bot.subscriptions import Subscriptions
from bot.translate import Translator

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.alerts import Alerts
    from bot.deliver import Broadcaster
    from bot.editor import Editor
    from bot.handlers.common import Deps
    from bot.health import TelegramHealth
    from bot.leader import Leadership
    from bot.limiter import SendLimiter
    from bot.schedule import WeeklyScheduler

log = logging.getLogger(__name__)

TELEGRAM_CONNECTIONS = 8
CONCURRENT_UPDATES = 64


@dataclass
class App:
    settings: Settings
    store: Store
    source: HFSource
    translator: Translator | None
    digests: DigestService
    subscriptions: Subscriptions
    clock: Clock
    ondemand: OnDemand | None = None  # None without a translator
    archive: ArchiveIndex | None = None
    fulltext: FullTextSource | None = None  # papers' bodies (Hugging Face's markdown, arXiv's HTML)
    briefs: Briefs | None = None  # deep briefs from the full text (None without a translator)
    questions: Questions | None = None  # questions answered from a paper (None without a translator)
    figures: Figures | None = None  # /paper's first figure with a Korean caption (bot/figure.py)


@asynccontextmanager
async def open_app(settings: Settings, *, translate: bool = True, clock: Clock = utcnow) -> AsyncIterator[App]:
    """Everything but Telegram. `translate=False` builds no translator (no Claude key needed)."""
    async with AsyncExitStack() as stack:
        redis = redis_client(settings)
        store = Store(redis, prefix=settings.redis_prefix)
        stack.push_async_callback(store.aclose)
        await store.ping()
        await store.ensure_slot_index()  # once: subscriptions made before slots existed

        session = aiohttp.ClientSession(headers={"User-Agent": f"hfweekly/{__version__}"})
        stack.push_async_callback(session.close)
        source, fulltext = hf_sources(settings, session, store, clock)
        stack.push_async_callback(fulltext.aclose)

        translator, briefs = None, None
        if translate:
            translator = make_translator(settings, store, clock)
            stack.push_async_callback(translator.aclose)
            briefs = make_briefs(settings, store, clock, translator, fulltext)
            stack.callback(briefs.cancel)
        digests = DigestService(
            source, store, translator, top_n=settings.top_n, tz=settings.tz, clock=clock, briefs=briefs
        )
        ondemand = None
        if translator is not None:
            arxiv = ArxivSource(session, settings.arxiv_base_url, attempts=settings.hf_max_attempts)
            ondemand = OnDemand(store, source, arxiv, translator, settings, clock=clock, briefs=briefs)
        archive = ArchiveIndex(store, translator)
        questions = None
        if translator is not None and ondemand is not None:
            questions = Questions(
                ondemand, fulltext, translator.claude, translator.glossary, settings, questions=store,
                clock=clock,
            )  # fmt: skip
        figures = None
        if translator is not None and settings.paper_figure:
            captions = CaptionTranslator(
                translator.claude, translator.glossary, papers=store, cache=store,
                daily_tokens=settings.on_demand_daily_tokens, tz=settings.tz, clock=clock,
            )  # fmt: skip
            figures = Figures(fulltext, captions)
            stack.push_async_callback(figures.stop)
        yield App(
            settings,
            store,
            source,
            translator,
            digests,
            Subscriptions(clock, settings, chats=store, delivery=store),
            clock,
            ondemand,
            archive,
            fulltext,
            briefs,
            questions,
            figures,
        )


def _token(settings: Settings) -> str:
    if settings.telegram_bot_token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    return settings.telegram_bot_token.get_secret_value()


def _limiter(app: App) -> SendLimiter:
    from bot.limiter import SendLimiter

    settings = app.settings
    return SendLimiter(
        app.store,
        rate=settings.send_rate,
        group_per_minute=settings.group_rate_per_minute,
        paid_rate=settings.paid_rate if settings.paid_broadcast else 0.0,
    )


async def _start(settings: Settings, initialize: Callable[[], Awaitable[None]]) -> None:
    """Run `initialize` (which asks Telegram getMe); failures say which of the three it was."""
    from telegram.error import InvalidToken, NetworkError, TelegramError

    try:
        await initialize()
    except InvalidToken as exc:
        raise TokenRejected("Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather") from exc
    except NetworkError as exc:  # refused, timed out, or a 5xx
        raise TelegramStartError(f"cannot reach Telegram at {settings.telegram_api_base_url}: {exc.message}") from exc
    except TelegramError as exc:
        raise TelegramStartError(f"Telegram answered badly at {settings.telegram_api_base_url}: {exc.message}") from exc


def broadcaster(app: App, bot: Any, limiter: SendLimiter, alerts: Alerts | None = None) -> Broadcaster:
    from bot.alerts import Alerts, admin_notifier
    from bot.deliver import Broadcaster

    notify = admin_notifier(Outbox(bot, app.store, app.settings.tz), app.settings)
    s = app.store
    return Broadcaster(
        bot, app.digests, app.subscriptions, limiter, app.settings, chats=s, delivery=s, runs=s, edits=s,
        clock=app.clock, notify=notify, alerts=alerts or Alerts(s, notify),
    )  # fmt: skip


def weekly_scheduler(
    app: App, bot: Any, caster: Broadcaster, editor: Editor | None = None, leader: Leadership | None = None
) -> WeeklyScheduler:
    """The scheduler of the slots, retries and healing (started by `running_bot`, ticking while `leader`
    leads; `publish --due` runs it once). It wakes the `editor` (a job of its own), never edits in its tick."""
    from bot.alerts import Alerts, admin_notifier
    from bot.heal import Healer
    from bot.schedule import WeeklyScheduler

    notify = admin_notifier(Outbox(bot, app.store, app.settings.tz), app.settings)
    healer = Healer(app.digests, editor, delivery=app.store, edits=app.store, clock=app.clock, notify=notify)
    return WeeklyScheduler(
        caster, healer, app.store, app.settings, clock=app.clock, notify=notify, alerts=Alerts(app.store, notify),
        editor=editor, leader=leader,
    )  # fmt: skip


def editor(app: App, bot: Any, limiter: SendLimiter) -> Editor:
    """The one editor of sent messages (bot/editor.py)."""
    from bot.editor import Editor

    settings = app.settings
    return Editor(
        bot, app.digests, app.translator, limiter, edits=app.store, delivery=app.store, tz=settings.tz,
        clock=app.clock, lock_seconds=settings.publish_lock_seconds,
    )  # fmt: skip


@asynccontextmanager
async def telegram_bot(app: App) -> AsyncIterator[tuple[Any, SendLimiter]]:
    """The Bot (python-telegram-bot's ExtBot over aiohttp, with the shared send limiter), started,
    for `hfweekly publish`; closed at the end, started or not."""
    from telegram.ext import ExtBot

    from bot.telegram_http import AiohttpRequest

    limiter = _limiter(app)
    bot = ExtBot(
        _token(app.settings),
        base_url=app.settings.telegram_api_base_url,
        request=AiohttpRequest(connections=TELEGRAM_CONNECTIONS),
        get_updates_request=AiohttpRequest(connections=1),
        rate_limiter=limiter,
    )
    try:
        await _start(app.settings, bot.initialize)
        yield bot, limiter
    finally:
        await bot.shutdown()  # closes the sessions even when getMe failed


def build_application(
    app: App, limiter: SendLimiter, telegram: TelegramHealth
) -> tuple[Application[Any, Any, Any, Any, Any, Any], Deps]:
    """The python-telegram-bot Application with every handler registered, and their dependencies."""
    from telegram import LinkPreviewOptions
    from telegram.constants import ParseMode
    from telegram.ext import Application, Defaults

    from bot.alerts import Alerts, admin_notifier
    from bot.allowance import WeekBuilds
    from bot.handlers import register
    from bot.handlers.common import Deps
    from bot.reports import Reports
    from bot.status import Status
    from bot.telegram_http import AiohttpRequest

    application = (
        Application.builder()
        .token(_token(app.settings))
        .base_url(app.settings.telegram_api_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .concurrent_updates(CONCURRENT_UPDATES)  # one slow /week build must not hold up anyone else's command
        # aiohttp instead of httpx under python-telegram-bot: see bot/telegram_http.py for why.
        .request(AiohttpRequest(connections=TELEGRAM_CONNECTIONS, observer=telegram.observe))
        .get_updates_request(AiohttpRequest(connections=1, observer=telegram.observe))
        .rate_limiter(limiter)
        .build()
    )
    outbox = Outbox(application.bot, app.store, app.settings.tz)  # what Telegram did not take, sent later
    alerts = Alerts(app.store, admin_notifier(outbox, app.settings))
    if app.ondemand is not None:
        app.ondemand.notify = admin_notifier(outbox, app.settings)
    s, settings = app.store, app.settings  # the one Store, as each facet a service uses
    deps = Deps(
        settings, app.digests, app.translator, app.subscriptions, broadcaster(app, application.bot, limiter, alerts),
        alerts, outbox, app.clock, editor(app, application.bot, limiter), Reports(s, settings),
        Status(settings, app.clock, papers=s, trust=s, edits=s, delivery=s, limits=s), WeekBuilds(s, settings),
        app.ondemand, app.archive, questions=app.questions,
    )  # fmt: skip
    deps.figures = app.figures
    register(application, deps)
    return application, deps


@dataclass
class RunningBot:
    application: Application[Any, Any, Any, Any, Any, Any]
    telegram: TelegramHealth  # its `fatal` is set when Telegram refuses the token: the bot must stop


@asynccontextmanager
async def running_bot(
    app: App, *, poll_timeout: int = 30, schedule: bool = True, webhook_url: str | None = None
) -> AsyncIterator[RunningBot]:
    """The bot (long polling, or with `webhook_url` a webhook server), publishing weekly with `schedule`,
    until the block ends. Several processes may share one Redis: one leads (bot/leader.py), ticking
    and, in polling mode, polling; each update is claimed by id and handled once (bot/updates.py); the
    publish lock and the ledger keep every week's sends exactly once. At the end: no new updates,
    builds under way are cancelled, a publish finishes its sends in flight (bounded), the lease is
    given up, then everything is closed."""
    from telegram.error import TelegramError

    from bot.handlers import COMMANDS
    from bot.health import HealthServer, TelegramHealth
    from bot.leader import Leadership, process_name
    from bot.updates import Updates, claim_updates

    limiter, telegram = _limiter(app), TelegramHealth()
    application, deps = build_application(app, limiter, telegram)
    claim_updates(application, app.store)
    settings, bot, name = app.settings, application.bot, process_name()
    ttl = timedelta(seconds=settings.leader_lease_seconds)  # an in-process store is this process's alone:
    leadership = Leadership(app.store.lease("leader", name, ttl=ttl) if settings.redis_url else None, name, ttl=ttl)
    deps.leadership = leadership
    async with AsyncExitStack() as stack:
        if settings.http_port:  # first: a port in use is said before anything talks to Telegram
            health = HealthServer(
                application, telegram, settings.http_host, settings.http_port, chats=app.store,
                delivery=app.store, leadership=leadership, polling=not webhook_url,
            )  # fmt: skip
            await health.start()
            stack.push_async_callback(health.stop)
        if settings.web:  # the public pages and feeds (bot/web/), off by default
            from bot.web.build import start_web

            web = await start_web(settings, app.digests, app.translator, app.archive, app.briefs, app.store, app.clock)
            stack.push_async_callback(web.stop)
        stack.push_async_callback(bot.shutdown)  # the sessions, even when the start fails half way
        await _start(settings, application.initialize)
        stack.push_async_callback(application.shutdown)
        try:
            await bot.set_my_commands(COMMANDS)
        except TelegramError as exc:  # the command menu is cosmetic: the bot works without it
            log.warning("Could not set the bot's command menu (%s); it answers commands all the same", exc)
        await application.start()
        stack.push_async_callback(application.stop)  # waits for the handlers still running
        deps.outbox.start()  # what Telegram did not take from admins' notices, once it answers again
        stack.push_async_callback(deps.outbox.stop)
        stack.push_async_callback(leadership.release)  # after the sends in flight: then a standby takes over
        if deps.editor is not None:
            stack.push_async_callback(deps.editor.stop)  # after the scheduler: nothing wakes it then
        if schedule:
            scheduler = weekly_scheduler(app, bot, deps.broadcaster, deps.editor, leadership)
            leadership.listen(scheduler.on_leadership)
            scheduler.start()
            stack.push_async_callback(scheduler.stop)  # a publish under way finishes its sends in flight
        stack.callback(app.digests.cancel_builds)  # a /week waiting for Claude does not hold up the exit
        if app.ondemand is not None:
            stack.callback(app.ondemand.cancel)  # nor a /paper
        if app.briefs is not None:
            stack.callback(app.briefs.cancel)  # nor a brief
        if app.figures is not None:
            stack.push_async_callback(app.figures.stop)  # nor a figure being fetched or sent after a /paper
        updates = Updates(application, settings, telegram, poll_timeout=poll_timeout)
        if webhook_url:
            await updates.webhook(webhook_url)
        else:
            leadership.listen(updates.on_leadership)  # only the leader polls
        stack.push_async_callback(updates.stop)
        await leadership.start()
        stack.push_async_callback(leadership.stop)  # first of all: no new updates, no new tick
        yield RunningBot(application, telegram)
