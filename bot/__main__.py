"""The `hfweekly` command line.

Exit status: 0 done; 1 nothing to show (no papers, Hugging Face or Redis failing); 2 bad usage or
configuration; 3 the digest was printed but some papers are still pending translation.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence

from telegram.error import InvalidToken, NetworkError

from bot.app import admin_notifier, make_bot, open_app, running_bot
from bot.check import run_checks
from bot.config import ConfigError, Settings, load_settings
from bot.deliver import AlreadyPublishing, Broadcaster, HeldError
from bot.digest import DigestError, EmptyWeekError, FutureWeekError, Progress, utcnow
from bot.logs import redact, setup_logging
from bot.models import ChatKind, Subscription
from bot.render import PART_SEPARATOR, render_json, render_telegram, render_text
from bot.store import StoreError
from bot.week import EXAMPLES, IsoWeek, WeekError

log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3


def _top(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 1 <= n <= 50:
        raise argparse.ArgumentTypeError("must be between 1 and 50")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hfweekly",
        description="Hugging Face papers of the week, translated into Korean by Claude.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    digest = commands.add_parser(
        "digest",
        help="print a week's digest",
        description="Print a week's top papers with Korean translations.",
        epilog=f"WEEK examples: {EXAMPLES}. Default: the last completed week.",
    )
    digest.add_argument("week", nargs="?", default="last", metavar="WEEK")
    digest.add_argument("--format", choices=("text", "telegram", "json"), default="text")
    digest.add_argument("--top", type=_top, default=None, metavar="N", help="how many papers (default: top_n)")
    digest.add_argument("--no-translate", action="store_true", help="the English digest; needs no Claude key")
    digest.add_argument("--refresh", action="store_true", help="fetch the ranking again instead of the frozen snapshot")
    publish = commands.add_parser(
        "publish",
        help="send a week's digest to every subscriber that does not have it yet, then exit",
        description="Publish once (for your own cron). Idempotent: chats that have the week already are skipped.",
        epilog=f"WEEK examples: {EXAMPLES}. Default: the last completed week.",
    )
    publish.add_argument("week", nargs="?", default="last", metavar="WEEK")
    publish.add_argument("--dry-run", action="store_true", help="print who would get what; send nothing")

    subscribers = commands.add_parser("subscribers", help="list, add or remove subscriptions")
    actions = subscribers.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="one chat per line: id, kind, state, topic, title")
    add = actions.add_parser("add", help="subscribe chats (ids; '-' reads one per line from stdin)")
    add.add_argument("chats", nargs="+", metavar="CHAT")
    add.add_argument("--thread", type=int, default=None, metavar="N", help="forum topic to deliver to")
    add.add_argument("--kind", choices=[k.value for k in ChatKind], help="default: from the id's form")
    remove = actions.add_parser("remove", help="unsubscribe chats (ids; '-' reads one per line from stdin)")
    remove.add_argument("chats", nargs="+", metavar="CHAT")

    commands.add_parser(
        "check",
        help="check the configuration and reach Redis, Telegram, Claude and Hugging Face",
        description="One line per check (✓ or ✗, and for ✗ the fix). Exit status 1 if any check fails.",
    )

    run = commands.add_parser(
        "run",
        help="run the Telegram bot (long polling, or a webhook)",
        description="Run the Telegram bot until SIGINT or SIGTERM. Needs TELEGRAM_BOT_TOKEN and ANTHROPIC_API_KEY.",
    )
    run.add_argument(
        "--webhook-url",
        metavar="URL",
        help="receive updates by webhook at this public https URL (several replicas may share it)",
    )
    return parser


async def _run(settings: Settings, webhook_url: str | None) -> int:
    async with open_app(settings) as app, running_bot(app, webhook_url=webhook_url):
        # Everything loaded so far (the libraries: about 240,000 objects) lives as long as the
        # process: move it out of the cyclic collector's sight, or each full collection scans it all
        # again, in the middle of whatever burst of updates set it off (tens of ms each).
        gc.freeze()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("Stopping")
    return EXIT_OK


def _stderr_progress() -> Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        sys.stderr.write(f"\r\033[K{message}…")
        sys.stderr.flush()

    return show


async def _digest(settings: Settings, args: argparse.Namespace, week: IsoWeek) -> int:
    progress = _stderr_progress()
    translate = not args.no_translate
    async with open_app(settings, translate=translate) as app:
        try:
            digest = await app.digests.build(
                week, translate=translate, refresh=args.refresh, top_n=args.top, progress=progress
            )
        finally:
            if progress:
                sys.stderr.write("\r\033[K")
    if args.format == "json":
        out = render_json(digest) + "\n"
    elif args.format == "telegram":
        out = f"\n{PART_SEPARATOR}\n".join(render_telegram(digest)) + "\n"
    else:
        out = render_text(digest)
    sys.stdout.write(out)
    sys.stdout.flush()
    wanted = args.top or settings.top_n
    if len(digest.items) < wanted:
        print(f"hfweekly: {week} has only {len(digest.items)} papers (top {wanted} asked for)", file=sys.stderr)
    if digest.pending:
        print(
            f"hfweekly: {len(digest.pending)} of {len(digest.items)} papers are pending translation "
            "(Claude failed; see the log above); their original abstracts are shown. Run again to retry.",
            file=sys.stderr,
        )
        return EXIT_PENDING
    return EXIT_OK


def _fail(status: int, message: str) -> int:
    print(f"hfweekly: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        return _fail(EXIT_USAGE, str(exc))
    setup_logging(settings.log_level, settings.secrets(), settings.log_format)
    if settings.redis_url is None:
        print(
            "hfweekly: REDIS_URL is not set: using an in-process store; nothing persists after this run",
            file=sys.stderr,
        )
    commands = {
        "run": _main_run,
        "publish": _main_publish,
        "subscribers": _main_subscribers,
        "digest": _main_digest,
        "check": _main_check,
    }
    try:
        return commands[args.command](settings, args)
    except StoreError as exc:
        return _fail(EXIT_FAILED, f"{exc} (check REDIS_URL)")
    except KeyboardInterrupt:
        return _fail(130, "interrupted")
    except Exception as exc:  # the last guard: one line for the user, the traceback in the log at DEBUG
        log.debug("Unexpected error", exc_info=exc)
        message = redact(f"{type(exc).__name__}: {exc}", settings.secrets())
        return _fail(EXIT_FAILED, f"unexpected error: {message} (HFWEEKLY_LOG_LEVEL=DEBUG shows the traceback)")


def _main_digest(settings: Settings, args: argparse.Namespace) -> int:
    try:
        week = IsoWeek.parse(args.week, now=utcnow(), tz=settings.tz)
    except WeekError as exc:
        return _fail(EXIT_USAGE, f"bad week: {exc}")
    if not args.no_translate and settings.anthropic_api_key is None:
        return _fail(EXIT_USAGE, "ANTHROPIC_API_KEY is not set; set it, or use --no-translate for the English digest")
    try:
        return asyncio.run(_digest(settings, args, week))
    except FutureWeekError as exc:
        return _fail(EXIT_USAGE, f"{exc}. Examples: {EXAMPLES}")
    except EmptyWeekError as exc:
        return _fail(EXIT_FAILED, str(exc))
    except DigestError as exc:
        return _fail(EXIT_FAILED, f"cannot build the digest of {week}: {exc}")
    except ConfigError as exc:
        return _fail(EXIT_USAGE, str(exc))


def _main_run(settings: Settings, args: argparse.Namespace) -> int:
    missing = [
        name
        for name, value in (
            ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
            ("ANTHROPIC_API_KEY", settings.anthropic_api_key),
        )
        if value is None
    ]
    if missing:
        return _fail(EXIT_USAGE, f"{' and '.join(missing)} not set; the bot needs both (see README, Configuration)")
    if args.webhook_url and not args.webhook_url.startswith(("https://", "http://")):
        return _fail(EXIT_USAGE, f"--webhook-url must be an https:// URL, not {args.webhook_url!r}")
    try:
        return asyncio.run(_run(settings, args.webhook_url))
    except InvalidToken:
        return _fail(EXIT_USAGE, "Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather")
    except NetworkError as exc:
        return _fail(
            EXIT_FAILED,
            f"cannot reach Telegram at {settings.telegram_api_base_url}: {redact(str(exc), settings.secrets())}",
        )


def _chat_ids(values: list[str]) -> tuple[list[int], list[str]]:
    """The chat ids given (with '-' read from stdin, one per line), and the values that are not ids."""
    raw = [line.strip() for v in values for line in (sys.stdin.read().splitlines() if v == "-" else [v])]
    good: list[int] = []
    bad: list[str] = []
    for value in filter(None, raw):
        if value.removeprefix("-").isdigit():
            good.append(int(value))
        else:
            bad.append(value)
    return good, bad


def _kind_of(chat_id: int) -> ChatKind:
    if chat_id > 0:
        return ChatKind.PRIVATE
    return ChatKind.SUPERGROUP if str(chat_id).startswith("-100") else ChatKind.GROUP


def _main_subscribers(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> int:
        async with open_app(settings, translate=False) as app:
            store, now = app.store, utcnow()
            if args.action == "list":
                for sub in await store.list_subscriptions():
                    state = "active" if sub.active else "inactive"
                    topic = f"topic={sub.thread_id}" if sub.thread_id else "-"
                    print(f"{sub.chat_id}\t{sub.kind}\t{state}\t{topic}\t{sub.title}")
                for channel in settings.channels:
                    print(f"{channel}\tchannel\tconfigured\t-\t(the channels setting)")
                return EXIT_OK
            ids, bad = _chat_ids(args.chats)
            for value in bad:
                print(
                    f"hfweekly: {value!r} is not a chat id (a number such as 12345 or -1001234567890); skipped",
                    file=sys.stderr,
                )
            for chat_id in ids:
                if args.action == "add":
                    old = await store.get_subscription(chat_id)
                    kind = ChatKind(args.kind) if args.kind else (old.kind if old else _kind_of(chat_id))
                    await store.save_subscription(
                        Subscription(chat_id=chat_id, kind=kind, title=old.title if old else "", active=True,
                                     since=old.since if old else now, updated=now, thread_id=args.thread)
                    )  # fmt: skip
                    print(
                        f"{'updated' if old else 'added'} {chat_id} ({kind}{f', topic {args.thread}' if args.thread else ''})"
                    )
                elif await store.delete_subscription(chat_id):
                    print(f"removed {chat_id}")
                else:
                    print(f"{chat_id} was not subscribed")
            return EXIT_FAILED if bad else EXIT_OK

    return asyncio.run(run())


def _main_publish(settings: Settings, args: argparse.Namespace) -> int:
    if settings.telegram_bot_token is None:
        return _fail(EXIT_USAGE, "TELEGRAM_BOT_TOKEN is not set; publishing needs the bot's token")
    if settings.anthropic_api_key is None:
        return _fail(EXIT_USAGE, "ANTHROPIC_API_KEY is not set; the digest needs Claude")
    now = utcnow()
    try:
        week = IsoWeek.parse(args.week, now=now, tz=settings.tz)
    except WeekError as exc:
        return _fail(EXIT_USAGE, f"bad week: {exc}")
    if not week.is_completed(now, settings.tz):
        return _fail(EXIT_USAGE, f"{week} has not ended yet; only completed weeks are published. Examples: {EXAMPLES}")

    async def run() -> int:
        async with open_app(settings) as app, make_bot(settings) as bot:
            broadcaster = Broadcaster(
                bot, app.store, app.digests, settings, clock=utcnow, notify=admin_notifier(bot, settings)
            )
            if args.dry_run:
                _, parts = await broadcaster.prepare(week, keep_plan=False)
                ledger = await app.store.ledger(week)
                recipients = await broadcaster.recipients()
                print(f"{week}: {len(parts)} messages per chat, {len(recipients)} chats")
                for to in recipients:
                    done = ledger.get(to.key, {}).get("state") == "sent"
                    topic = f" topic {to.thread_id}" if to.thread_id else ""
                    print(f"  {to.key}\t{to.kind}{topic}\t{'already sent' if done else 'would send'}")
                return EXIT_OK
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):  # finish the sends in flight, then stop
                loop.add_signal_handler(sig, broadcaster.stop)
            report = await broadcaster.publish(week, wait=settings.publish_lock_seconds + 5)
            print(report.line() + ("" if report.complete else " (stopped early; run again to send the rest)"))
            if not report.complete:
                return 130
            return EXIT_OK if not (report.failed or report.unknown) else EXIT_FAILED

    try:
        return asyncio.run(run())
    except (HeldError, DigestError) as exc:
        return _fail(EXIT_FAILED, f"{week} not published: {exc}")
    except AlreadyPublishing as exc:
        return _fail(EXIT_FAILED, str(exc))
    except InvalidToken:
        return _fail(EXIT_USAGE, "Telegram rejected TELEGRAM_BOT_TOKEN; copy it again from @BotFather")


def _main_check(settings: Settings, args: argparse.Namespace) -> int:
    results = asyncio.run(run_checks(settings))
    for ok, name, detail in results:
        print(f"{'✓' if ok else '✗'} {name}: {redact(detail, settings.secrets())}")
    return EXIT_OK if all(ok for ok, _, _ in results) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
