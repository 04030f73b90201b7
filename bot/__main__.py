"""The `hfweekly` command line: run | digest | publish | subscribers | check | init (bot/init.py) | web |
site build.

Exit status (bot/errors.py maps each error to one): 0 done (`run` stopped by SIGINT/SIGTERM too: that
is how a service manager stops it, and systemd or docker count any other status as a failure); 1 failed
(nothing to show, a dependency failing, chats owed a retry); 2 bad usage or configuration; 3 the digest
was printed but some papers are still pending translation; 130 a publish stopped early by SIGINT/SIGTERM
(the next run sends the rest), or another command interrupted by Ctrl-C.

The arguments are read before anything heavy is imported (bot/arguments.py), so `hfweekly --help`
answers at once; each command imports what it needs when it runs. Every error of ours ends as one
line on stderr and its exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.arguments import build_parser
from bot.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_STOPPED,
    EXIT_USAGE,
    ConfigError,
    DigestError,
    EmptyWeekError,
    FutureWeekError,
    HeldError,
    HfweeklyError,
    StoreError,
    TooEarlyWeekError,
    UsageError,
    WeekError,
)
from bot.week import EXAMPLES, IsoWeek

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "init":  # before the settings: it writes them (a broken .env is what it may fix)
        from bot.init import init

        return init(args)
    return execute(args)


def fail(status: int, message: str) -> int:
    print(f"hfweekly: {message}", file=sys.stderr)
    return status


def execute(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.logs import redact, setup_logging

    try:
        settings = load_settings()
    except ConfigError as exc:
        return fail(exc.exit_status, str(exc))
    setup_logging(settings.log_level, settings.secrets(), settings.log_format)
    if settings.redis_url is None:
        print("hfweekly: REDIS_URL is not set: using an in-process store; nothing persists after this run",
              file=sys.stderr)  # fmt: skip
    commands: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "run": run, "publish": publish, "subscribers": subscribers, "digest": digest, "check": check,
        "web": web, "site": site,
    }  # fmt: skip
    try:
        return commands[args.command](settings, args)
    except StoreError as exc:
        return fail(exc.exit_status, f"{exc} (check REDIS_URL)")
    except HfweeklyError as exc:
        return fail(exc.exit_status, redact(str(exc), settings.secrets()))
    except KeyboardInterrupt:
        return fail(EXIT_STOPPED, "interrupted")
    except Exception as exc:  # the last guard: one line for the user, the traceback in the log at DEBUG
        log.debug("Unexpected error", exc_info=exc)
        message = redact(f"{type(exc).__name__}: {exc}", settings.secrets())
        return fail(EXIT_FAILED, f"unexpected error: {message} (HFWEEKLY_LOG_LEVEL=DEBUG shows the traceback)")


def _week(settings: Settings, text: str) -> IsoWeek:
    from bot.digest import utcnow

    try:
        return IsoWeek.parse(text, now=utcnow(), tz=settings.tz)
    except WeekError as exc:
        raise WeekError(f"bad week: {exc}", reason=exc.reason, year=exc.year) from exc


def _on_signals(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


# --- hfweekly run -----------------------------------------------------------------------------------


def run(settings: Settings, args: argparse.Namespace) -> int:
    missing = [name for name, value in (("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
                                        ("ANTHROPIC_API_KEY", settings.anthropic_api_key)) if value is None]  # fmt: skip
    if missing:
        return fail(EXIT_USAGE, f"{' and '.join(missing)} not set; the bot needs both (see README, Configuration)")
    if args.webhook_url and not args.webhook_url.startswith(("https://", "http://")):
        return fail(EXIT_USAGE, f"--webhook-url must be an https:// URL, not {args.webhook_url!r}")
    return asyncio.run(_run(settings, args.webhook_url))


async def _run(settings: Settings, webhook_url: str | None) -> int:
    from bot.app import open_app, running_bot

    stop = asyncio.Event()
    _on_signals(stop.set)  # first: a signal while the bot starts stops it as soon as it has started
    async with open_app(settings) as app, running_bot(app, webhook_url=webhook_url) as bot:
        # Everything loaded so far (the libraries: about 240,000 objects) lives as long as the process:
        # out of the cyclic collector's sight, a full collection does not scan it all again mid-burst.
        gc.freeze()
        signalled, refused = asyncio.create_task(stop.wait()), asyncio.create_task(bot.telegram.fatal.wait())
        await asyncio.wait({signalled, refused}, return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        refused.cancel()
        log.info("Stopping")
    if bot.telegram.fatal.is_set():
        return fail(
            EXIT_FAILED, "Telegram refused TELEGRAM_BOT_TOKEN while the bot ran; set a valid token and start it again"
        )
    return EXIT_OK  # stopped by SIGINT/SIGTERM: a service's clean stop (see the module's docstring)


# --- hfweekly digest --------------------------------------------------------------------------------


def digest(settings: Settings, args: argparse.Namespace) -> int:
    week = _week(settings, args.week)
    if not args.no_translate and settings.anthropic_api_key is None:
        raise UsageError("ANTHROPIC_API_KEY is not set; set it, or use --no-translate for the English digest")
    try:
        return asyncio.run(_digest(settings, args, week))
    except (FutureWeekError, TooEarlyWeekError) as exc:
        return fail(exc.exit_status, f"{exc}. Examples: {EXAMPLES}")
    except EmptyWeekError as exc:
        return fail(exc.exit_status, str(exc))
    except DigestError as exc:
        return fail(exc.exit_status, f"cannot build the digest of {week}: {exc}")


async def _digest(settings: Settings, args: argparse.Namespace, week: IsoWeek) -> int:
    from bot.app import open_app
    from bot.progress import status_line
    from bot.render import PART_SEPARATOR, render_json, render_telegram, render_text

    progress = status_line()
    translate = not args.no_translate
    async with open_app(settings, translate=translate) as app:
        try:
            built = await app.digests.build(
                week, translate=translate, refresh=args.refresh, top_n=args.top, progress=progress
            )
        finally:
            if progress:
                sys.stderr.write("\r\033[K")
    if args.format == "json":
        out = render_json(built) + "\n"
    elif args.format == "telegram":
        out = f"\n{PART_SEPARATOR}\n".join(render_telegram(built)) + "\n"
    else:
        out = render_text(built)
    sys.stdout.write(out)
    sys.stdout.flush()
    wanted = args.top or settings.top_n
    if len(built.items) < wanted:
        print(f"hfweekly: {week} has only {len(built.items)} papers (top {wanted} asked for)", file=sys.stderr)
    if built.pending:
        print(
            f"hfweekly: {len(built.pending)} of {len(built.items)} papers are pending translation "
            "(Claude failed; see the log above); their original abstracts are shown. Run again to retry.",
            file=sys.stderr,
        )
        return EXIT_PENDING
    return EXIT_OK


# --- hfweekly publish -------------------------------------------------------------------------------


def publish(settings: Settings, args: argparse.Namespace) -> int:
    from bot.digest import utcnow

    if settings.telegram_bot_token is None:
        return fail(EXIT_USAGE, "TELEGRAM_BOT_TOKEN is not set; publishing needs the bot's token")
    if settings.anthropic_api_key is None:
        return fail(EXIT_USAGE, "ANTHROPIC_API_KEY is not set; the digest needs Claude")
    if args.due:
        if args.week is not None or args.dry_run:
            return fail(EXIT_USAGE, "--due takes no WEEK and no --dry-run: it sends what is due now")
        return asyncio.run(_publish_due(settings))
    week = _week(settings, args.week or "last")
    if not week.is_completed(utcnow(), settings.tz):
        return fail(EXIT_USAGE, f"{week} has not ended yet; only completed weeks are published. Examples: {EXAMPLES}")
    try:
        return asyncio.run(_publish(settings, args, week))
    except (HeldError, DigestError) as exc:
        return fail(exc.exit_status, f"{week} not published: {exc}")


async def _publish(settings: Settings, args: argparse.Namespace, week: IsoWeek) -> int:
    from bot.app import broadcaster, open_app, telegram_bot
    from bot.audience import ALL
    from bot.progress import progress
    from bot.render import render_telegram

    async with open_app(settings) as app, telegram_bot(app) as (bot, limiter):
        caster = broadcaster(app, bot, limiter)
        if args.dry_run:
            audience = await caster.audiences.find(week, ALL)
            digest = await caster.prepare(week, views=(to.view for to in audience.recipients))
            ledger = (await app.store.ledger_entries(week, [to.chat_id for to in audience.recipients])).entries
            views = {to.view: len(render_telegram(digest, view=to.view)) for to in audience.recipients}
            print(f"{week}: {len(audience.recipients)} chats, {len(views)} views")
            for to in audience.recipients:
                done = to.chat_id in ledger and not ledger[to.chat_id].owed
                topic = f" topic {to.thread_id}" if to.thread_id else ""
                what = f"{to.view.key}, {views[to.view]} messages"
                print(f"  {to.chat_id}\t{to.kind}{topic}\t{'already sent' if done else 'would send'}\t{what}")
            for name in audience.unresolved:
                print(f"  {name}\tchannel\tcannot be looked up: tried again by a later run")
            return EXIT_OK
        _on_signals(caster.stop)  # finish the sends in flight, then stop
        with progress(f"publishing {week}", unit="chats") as bar:
            report = await caster.publish(week, wait=settings.publish_lock_seconds + 5, on_chat=bar.update)
        if caster.stopping:
            print(report.line() + " (stopped early; run again to send the rest)")
            return EXIT_STOPPED
        print(report.line() + ("" if report.done else f" ({report.owed} chats owed a retry from {report.next_retry})"))
        return EXIT_OK if report.done else EXIT_FAILED


async def _publish_due(settings: Settings) -> int:
    from bot.app import broadcaster, open_app, telegram_bot, weekly_scheduler
    from bot.digest import utcnow

    async with open_app(settings) as app, telegram_bot(app) as (bot, limiter):
        caster = broadcaster(app, bot, limiter)
        _on_signals(caster.stop)
        reports = await weekly_scheduler(app, bot, caster).run_due(utcnow())
        for report in reports:
            print(report.line())
        if not reports:
            print("nothing is due")
        if caster.stopping:
            return EXIT_STOPPED
        return EXIT_OK if all(report.done for report in reports) else EXIT_FAILED


# --- hfweekly subscribers ---------------------------------------------------------------------------


def subscribers(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_subscribers(settings, args))


async def _subscribers(settings: Settings, args: argparse.Namespace) -> int:
    from bot import chatadmin
    from bot.app import open_app

    async with open_app(settings, translate=False) as app:
        if args.action == "list":
            await chatadmin.list_chats(app.subscriptions, app.store, settings.channels)
            return EXIT_OK
        if args.action == "set":
            await chatadmin.set_settings(app.subscriptions, args.chat, args.pairs)
            return EXIT_OK
        return await chatadmin.add_or_remove(app.subscriptions, args)


# --- hfweekly check ---------------------------------------------------------------------------------


def check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.check import print_checks

    return EXIT_OK if print_checks(settings) else EXIT_FAILED


# --- hfweekly web, hfweekly site build (bot/web/) -----------------------------------------------------


def web(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_web(settings.model_copy(update={"web_port": args.port or settings.web_port})))


async def _web(settings: Settings) -> int:
    from bot.app import open_app
    from bot.web.build import reader, start_web

    stop = asyncio.Event()
    _on_signals(stop.set)
    async with open_app(reader(settings)) as a:
        server = await start_web(settings, a.digests, a.translator, a.archive, a.briefs, a.store, a.clock)
        print(f"serving the web pages on http://{settings.web_host}:{server.port}/ (Ctrl-C stops)", flush=True)
        await stop.wait()
        await server.stop()
    return EXIT_OK


def site(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_site(settings, args))


async def _site(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_app
    from bot.progress import progress
    from bot.web.build import make_site, reader
    from bot.web.export import build_site

    async with open_app(reader(settings)) as a:
        made = make_site(
            settings, a.digests, a.translator, a.archive, a.briefs, a.store, a.clock, static=True,
            public_url=args.public_url, max_weeks=args.weeks,
        )  # fmt: skip
        with progress(f"building the site in {args.dir}", unit="pages") as bar:
            built = await build_site(made, args.dir, progress=bar.update)
    print(f"wrote {built.pages} pages ({built.weeks} weeks) in {built.seconds:.1f} s to {args.dir}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
