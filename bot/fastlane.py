"""The fast lane: `/week` and `/latest` answered straight from the raw update when the digest is cached.

Why beside python-telegram-bot rather than through it: bench/week_query.py sends 300 `/week` at once,
and the bar is p99 <= 100 ms, about 0.3 ms of CPU per reply. PTB spends about 0.26 ms turning each
update into objects (a Message sets some 200 attributes) and as much again turning each reply back
into a Message, before any HTTP. The fast lane reads the update's JSON, sends the same parts with the
same buttons as the `/week` handler (Commands.rendered, Commands.nav) and does not read the reply.

It takes only what it is sure of: a fresh message whose first entity is `/week` or `/latest` (for this
bot), naming a week that has started, while the Updater runs. Everything else, and every such command
whose digest is not cached (a build, the per-user limit, "생성 중…"), a store error or a send that
surely did not reach Telegram (refused, no connection), goes to PTB's Application as an ordinary
Update, so the handlers there answer it with all their rules. A send whose outcome is unknown (a read
timeout) is logged and not repeated. One difference a user can see: if the second part of a two-part
digest is refused or cannot be sent, the handler sends the whole digest again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.commands import Commands, keep
from bot.digest import DigestService
from bot.metrics import WEEK_REPLIES
from bot.models import Digest
from bot.store import StoreError
from bot.telegram_http import AiohttpRequest, ConnectTimedOut, NotSent, json_bytes
from bot.week import IsoWeek

log = logging.getLogger(__name__)

COMMANDS = {"week", "latest"}
STOP_WAIT = 10.0  # seconds shutdown waits for answers in flight
TAKEN_KEPT = 1000  # ids of the updates last taken, so that one fetched again is not answered again


class FastLane:
    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        commands: Commands,
        digests: DigestService,
        request: AiohttpRequest,
    ) -> None:
        self._application = application
        self._commands = commands
        self._digests = digests
        self._request = request
        self._tasks: set[asyncio.Task[None]] = set()
        self._kept: dict[IsoWeek, tuple[Digest, InlineKeyboardMarkup, list[bytes]]] = {}
        self._taken: dict[int, None] = {}  # an ordered set

    def take(self, update: dict[str, Any]) -> bool:
        """Answer `update` here (True), or leave it to the Application (False). Never raises."""
        updater = self._application.updater
        if updater is None or not updater.running:
            # The Updater drops (and Telegram sends again after a restart) what it fetches while it
            # stops, including its last getUpdates that only confirms the offset: so must this lane.
            return False
        try:
            if update["update_id"] in self._taken:
                return True  # fetched again (the Updater did not confirm a batch it could not parse)
            found = self._command(update)
        except Exception:  # a shape this code did not expect: PTB reads it, and its handlers decide
            log.exception("Fast lane: could not read update %s", update.get("update_id"))
            return False
        if found is None:
            return False
        keep(self._taken, update["update_id"], None, TAKEN_KEPT)
        task = asyncio.get_running_loop().create_task(self._answer(update, *found))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def aclose(self) -> None:
        """Wait for the answers in flight (called once the Updater has stopped: nothing new comes);
        those still unfinished after STOP_WAIT are cancelled and logged."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=STOP_WAIT)
        for task in late:
            task.cancel()
        if late:
            log.warning("Fast lane: %d /week answers still in flight at shutdown were cancelled", len(late))

    def _command(self, update: dict[str, Any]) -> tuple[int, int | None, str] | None:
        """(chat id, topic, week text) of a `/week` or `/latest` this lane may answer, else None."""
        message = update.get("message")
        if len(update) != 2 or not isinstance(message, dict):  # only update_id and a new message
            return None
        text, entities = message.get("text"), message.get("entities")
        if not isinstance(text, str) or not isinstance(entities, list) or not entities:
            return None
        first = entities[0]
        if first.get("type") != "bot_command" or first.get("offset") != 0:
            return None
        # As PTB's CommandHandler reads a command: case-insensitive, `@username` only for this bot.
        command, at, mention = text[1 : first["length"]].partition("@")
        username = self._application.bot.username
        if command.lower() not in COMMANDS or (at and mention.lower() != username.lower()):
            return None
        week_text = "last" if command.lower() == "latest" else " ".join(text.split()[1:]) or "last"
        thread = message.get("message_thread_id") if message.get("is_topic_message") else None
        return int(message["chat"]["id"]), thread, week_text

    async def _answer(self, update: dict[str, Any], chat_id: int, thread: int | None, week_text: str) -> None:
        try:
            if await self._send(chat_id, thread, week_text):
                WEEK_REPLIES.labels("fast").inc()
                return
        except (NotSent, ConnectTimedOut, StoreError) as exc:  # nothing was sent: the handler tries again
            log.info("Fast lane: %s for update %s; the handler answers it", type(exc).__name__, update["update_id"])
        except TelegramError as exc:
            # A read timeout or a broken connection: the message may well have arrived. Sending it again
            # could show it twice; the reader can ask again.
            log.warning("Fast lane: /week answer in chat %s has an unknown outcome (%s)", chat_id, type(exc).__name__)
            return
        except Exception:  # our own failure before or between sends: the handler answers, with its rules
            log.exception("Fast lane: update %s failed; the handler answers it", update["update_id"])
        self._application.update_queue.put_nowait(Update.de_json(update, self._application.bot))

    async def _send(self, chat_id: int, thread: int | None, week_text: str) -> bool:
        """Send the week's cached digest as the /week handler would; False when this lane cannot."""
        week = self._commands.parse_week(week_text)
        if isinstance(week, str):
            return False  # the handler explains what is wrong with the week
        digest = await self._digests.cached(week)
        if digest is None:
            return False  # a build is needed: the handler builds it, within the per-user limit
        url = f"{self._application.bot.base_url}/sendMessage"  # carries the token: never logged
        head = f'{{"chat_id":{chat_id},'
        if thread is not None:
            head += f'"message_thread_id":{thread},'
        for i, template in enumerate(self._templates(week, digest)):
            status, body = await self._request.post_json(url, head.encode() + template)
            if status != 200:
                log.info(
                    "Fast lane: Telegram answered %d (%s) to part %d of %s in chat %s",
                    status, body[:200].decode(errors="replace"), i + 1, week, chat_id,
                )  # fmt: skip
                return False
        return True

    def _templates(self, week: IsoWeek, digest: Digest) -> list[bytes]:
        """The week's sendMessage bodies without their first `{` and the chat: what the /week handler
        sends (its parts, PTB's defaults, the ◀ ▶ buttons on the last part), encoded once per digest."""
        markup = self._commands.nav(week)
        kept = self._kept.get(week)
        if kept is not None and kept[0] is digest and kept[1] is markup:
            return kept[2]
        bot = self._application.bot
        common: dict[str, Any] = {}
        if bot.defaults is not None and bot.defaults.parse_mode:
            common["parse_mode"] = bot.defaults.parse_mode
        if bot.defaults is not None and bot.defaults.link_preview_options is not None:
            common["link_preview_options"] = bot.defaults.link_preview_options.to_dict()
        parts = self._commands.rendered(digest, bot.username)
        templates = []
        for i, part in enumerate(parts):
            payload = common | {"text": part}
            if i == len(parts) - 1:
                payload["reply_markup"] = markup.to_dict()
            templates.append(json_bytes(payload)[1:])
        keep(self._kept, week, (digest, markup, templates))
        return templates
