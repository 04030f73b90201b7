"""`hfweekly subscribers list | add | remove | set`: subscriptions and chats' settings from the command
line (the same rules as in chats: bot/subscriptions.py, bot/preferences.py). Output in English."""

from __future__ import annotations

import argparse
import sys

from bot.errors import EXIT_FAILED, EXIT_OK, UsageError
from bot.models import ChatKind, ChatSettings
from bot.preferences import SettingError, apply, describe, parse_pairs
from bot.store import ChatStore
from bot.subscriptions import Change, ChatInfo, Subscriptions, kind_of


def chat_ids(values: list[str]) -> tuple[list[int], list[str]]:
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


async def list_chats(subscriptions: Subscriptions, chats: ChatStore, channels: list[str]) -> None:
    """One chat per line: id, kind, state, topic, title, settings."""
    subs = await subscriptions.all()
    chosen = await chats.settings_of([sub.chat_id for sub in subs])
    for sub in subs:
        state = "active" if sub.active else "inactive"
        topic = f"topic={sub.thread_id}" if sub.thread_id else "-"
        print(
            f"{sub.chat_id}\t{sub.kind}\t{state}\t{topic}\t{sub.title}\t{describe(chosen.get(sub.chat_id) or ChatSettings())}"
        )
    for channel in channels:
        print(f"{channel}\tchannel\tconfigured\t-\t(the channels setting)\t{describe(ChatSettings())}")


async def set_settings(subscriptions: Subscriptions, chat: str, pairs: list[str]) -> None:
    """Change one chat's settings by `key=value` pairs; UsageError (exit 2) listing the valid values
    for an unknown key or value, and then nothing is changed."""
    if not chat.removeprefix("-").isdigit():
        raise UsageError(f"{chat!r} is not a chat id (a number such as 12345 or -1001234567890)")
    chat_id = int(chat)
    default_slot = subscriptions.default_slot()
    try:
        changes = parse_pairs(pairs)
        for key, value in changes:  # every key and value checked before anything is written
            apply(ChatSettings(), key, value, default_slot=default_slot)
    except SettingError as exc:
        raise UsageError(f"{exc}; nothing was changed") from exc

    def changed(current: ChatSettings) -> ChatSettings:
        for key, value in changes:
            current = apply(current, key, value, default_slot=default_slot)
        return current

    new = await subscriptions.change_settings(chat_id, changed)  # applied to the settings as they are then
    known = "" if await subscriptions.get(chat_id) else " (not subscribed: kept for when it subscribes)"
    print(f"{chat_id}: {describe(new)}{known}")


async def add_or_remove(subscriptions: Subscriptions, args: argparse.Namespace) -> int:
    ids, bad = chat_ids(args.chats)
    for value in bad:
        print(f"hfweekly: {value!r} is not a chat id (a number such as 12345 or -1001234567890); skipped",
              file=sys.stderr)  # fmt: skip
    for chat_id in ids:
        if args.action == "add":
            old = await subscriptions.get(chat_id)
            kind = ChatKind(args.kind) if args.kind else (old.kind if old else kind_of(chat_id))
            change = await subscriptions.subscribe(ChatInfo(chat_id, kind, ""), thread_id=args.thread)
            topic = f", topic {args.thread}" if args.thread else ""
            print(f"{'added' if change is Change.STARTED else 'updated'} {chat_id} ({kind}{topic})")
        elif await subscriptions.unsubscribe(chat_id):
            print(f"removed {chat_id}")
        else:
            print(f"{chat_id} was not subscribed")
    return EXIT_FAILED if bad else EXIT_OK
