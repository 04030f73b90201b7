"""The `hfweekly` command line.

Exit status: 0 done; 1 nothing to show (no papers, Hugging Face or Redis failing); 2 bad usage or
configuration; 3 the digest was printed but some papers are still pending translation.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.app import open_app
from bot.config import ConfigError, Settings, load_settings
from bot.digest import DigestError, EmptyWeekError, FutureWeekError, Progress, utcnow
from bot.render import PART_SEPARATOR, render_json, render_telegram, render_text
from bot.store import StoreError
from bot.week import EXAMPLES, IsoWeek, WeekError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
QUIET_LOGGERS = ("httpx", "httpcore", "httpx2", "httpcore2", "anthropic", "aiohttp.access")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # httpx logs every URL at INFO, and Telegram's URLs carry the bot token.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


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
    return parser


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
    if digest.pending:
        print(
            f"hfweekly: {len(digest.pending)} of {len(digest.items)} papers are pending translation "
            "(Claude failed; see the log above); their original abstracts are shown. Run again to retry.",
            file=sys.stderr,
        )
        return EXIT_PENDING
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def fail(status: int, message: str) -> int:
        print(f"hfweekly: {message}", file=sys.stderr)
        return status

    try:
        settings = load_settings()
    except ConfigError as exc:
        return fail(EXIT_USAGE, str(exc))
    setup_logging(settings.log_level)

    now = utcnow()
    try:
        week = IsoWeek.parse(args.week, now=now, tz=settings.tz)
    except WeekError as exc:
        return fail(EXIT_USAGE, f"bad week: {exc}")
    if not week.has_started(now, settings.tz):
        last = IsoWeek.last_completed(now, settings.tz)
        return fail(EXIT_USAGE, f"{week} is in the future; the last completed week is {last}. Examples: {EXAMPLES}")
    if not args.no_translate and settings.anthropic_api_key is None:
        return fail(EXIT_USAGE, "ANTHROPIC_API_KEY is not set; set it, or use --no-translate for the English digest")

    try:
        return asyncio.run(_digest(settings, args, week))
    except FutureWeekError as exc:
        return fail(EXIT_USAGE, str(exc))
    except EmptyWeekError as exc:
        return fail(EXIT_FAILED, str(exc))
    except DigestError as exc:
        return fail(EXIT_FAILED, f"cannot build the digest of {week}: {exc}")
    except StoreError as exc:
        return fail(EXIT_FAILED, f"{exc} (check REDIS_URL)")
    except ConfigError as exc:
        return fail(EXIT_USAGE, str(exc))
    except KeyboardInterrupt:
        return fail(130, "interrupted")


if __name__ == "__main__":
    sys.exit(main())
