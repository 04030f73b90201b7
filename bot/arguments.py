"""The `hfweekly` command line's arguments (the commands themselves are bot/__main__.py). Light on
purpose: `hfweekly --help` answers with nothing more than argparse and this module imported."""

from __future__ import annotations

import argparse

from bot.models import ChatKind
from bot.week import EXAMPLES


def _top(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 1 <= n <= 50:
        raise argparse.ArgumentTypeError("must be between 1 and 50")
    return n


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of 1 or more")
    return int(value)


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
        epilog=f"WEEK examples: {EXAMPLES}. Default: the last completed week. Exit status 1 when chats are "
        "owed a retry (run it again later), 130 when stopped early.",
    )
    publish.add_argument("week", nargs="?", default=None, metavar="WEEK")
    publish.add_argument("--dry-run", action="store_true", help="print who would get what; send nothing")
    publish.add_argument(
        "--due",
        action="store_true",
        help="instead of WEEK: send what the scheduler would now (the chats whose slot has come, retries due)",
    )

    subscribers = commands.add_parser("subscribers", help="list, add or remove subscriptions")
    actions = subscribers.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="one chat per line: id, kind, state, topic, title, settings")
    set_ = actions.add_parser(
        "set",
        help='change a chat\'s settings: count=5 day=fri hour=18 form=brief english=off topics="RL" paused=no',
        description="Change a chat's own digest (what /settings changes in the chat).",
        epilog="Settings: count=5|10|20|default; day=mon…sun|default and hour=0…23 (the weekly slot, in the "
        'bot\'s timezone); form=brief|summary|full; english=on|off; topics="diffusion, RL" ("" for none); '
        "only_topics=yes|no; paused=yes|no.",
    )
    set_.add_argument("chat", metavar="CHAT")
    set_.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
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
    init = commands.add_parser(
        "init",
        help="write a .env: asks for the Telegram token, the Claude key and the admins, and checks each",
        description="Write .env (mode 0600) in the working directory. Asks for what no flag gives (secrets "
        "without echo) and checks the token, the key and Redis live, as `hfweekly check` does.",
        epilog="With --yes nothing is asked: the flags must give the token and the key. Without a terminal the "
        "answers are read from stdin, one a line.",
    )
    init.add_argument("--telegram-token", metavar="TOKEN", help="the bot's token from @BotFather")
    init.add_argument("--anthropic-key", metavar="KEY", help="the Claude API key")
    init.add_argument("--admins", metavar="IDS", help="Telegram user ids of the admins, comma-separated")
    init.add_argument("--redis-url", metavar="URL", help="redis://HOST:6379/0 (empty: none, nothing persists)")
    init.add_argument("--env-file", default=".env", metavar="PATH", help="where to write (default: .env)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file without asking")
    init.add_argument(
        "--yes", "-y", action="store_true", help="ask nothing: take the flags; overwrite an existing file"
    )
    init.add_argument("--no-check", action="store_true", help="write without checking the token, key and Redis")
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
    web = commands.add_parser(
        "web",
        help="serve the web pages and feeds alone (no Telegram), until SIGINT or SIGTERM",
        description="The public pages and feeds (what `run` serves with HFWEEKLY_WEB=true) on HFWEEKLY_WEB_HOST:"
        "HFWEEKLY_WEB_PORT, from what Redis holds. Asks neither Hugging Face nor Claude.",
    )
    web.add_argument("--port", type=int, default=None, metavar="N", help="default: HFWEEKLY_WEB_PORT (8081)")
    site = commands.add_parser("site", help="the web pages as static files")
    site_actions = site.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = site_actions.add_parser(
        "build",
        help="write the pages and feeds to DIR (relative links: any static host)",
        description="Write the frozen weeks' pages and feeds as files, from what Redis holds.",
    )
    build.add_argument("dir", metavar="DIR")
    build.add_argument(
        "--weeks", type=_positive, default=None, metavar="N", help="the latest N weeks only (default: all)"
    )
    build.add_argument("--public-url", default=None, metavar="URL", help="absolute URLs in feeds (HFWEEKLY_PUBLIC_URL)")
    return parser
