"""A fake Telegram Bot API: feeds updates through getUpdates and records what the bot sends.

It speaks the wire format python-telegram-bot uses (form fields, JSON-encoded where not strings) at
`/bot<token>/<method>`, and refuses what Telegram refuses: HTML that does not parse with Telegram's
tag set, texts over 4096 UTF-16 units, unknown chats, and whatever failures a test injects per chat
(429 with retry_after, 403 blocked, chat migrated, chat not found).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import defaultdict, deque
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.server import FakeServer
from tests.fakes.telegram_html import MAX_TEXT, TelegramHTMLError, parse_telegram_html, telegram_entities, utf16_length

_ARRIVED: ContextVar[float] = ContextVar("arrived")  # when the request being handled reached the fake
MAX_CAPTION = 1024  # UTF-16 units of a media caption after entity parsing
TOKEN = "123456:TEST-token-not-a-secret"
BOT_ID = 123456
BOT_USERNAME = "hfweekly_test_bot"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # as Telegram answers: UTF-8, not \u escapes


JSON_FIELDS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "scope",
    "results",
}


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class _Garbage(Exception):
    """Answer 200 with this raw body (what a broken proxy might send)."""

    def __init__(self, body: bytes) -> None:
        super().__init__("garbage")
        self.body = body


@dataclass
class Sent:
    """One accepted sendMessage/editMessageText, as Telegram would store it."""

    method: str
    chat_id: int
    message_id: int
    text: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the request reached the fake
    photo: str | None = None  # sendPhoto: the photo's URL (`text` is then its caption)

    @property
    def paid(self) -> bool:
        """Sent as a paid broadcast (`allow_paid_broadcast`; python-telegram-bot writes it as "true")."""
        return _flag(self.params.get("allow_paid_broadcast"))

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
        return rows

    @property
    def button_data(self) -> list[str]:
        return [b.get("callback_data") or b.get("url", "") for row in self.buttons for b in row]


class FakeTelegram(FakeServer):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._new_update = asyncio.Event()
        self.delivered_at: dict[int, float] = {}  # update_id -> when getUpdates handed it out
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every method call, in order
        self.sent: list[Sent] = []  # accepted sendMessage and editMessageText calls
        self.messages: dict[tuple[int, int], Sent] = {}  # the current text of every message
        self.callback_answers: list[dict[str, Any]] = []
        self.inline_answers: list[dict[str, Any]] = []  # answerInlineQuery calls, their results checked
        self.commands: list[dict[str, Any]] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.usernames: dict[str, int] = {}
        self.members: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, user) -> ChatMember
        self.failures: dict[int, deque[ApiError | None]] = defaultdict(deque)  # chat -> next answers (None: ok)
        self.rejected: list[tuple[str, int, str]] = []  # (method, chat, description) refused
        self.hang: dict[int, float] = {}  # chat -> seconds the next sendMessage to it takes (after delivery)
        self.flood_limit: int | None = None  # messages per second over all chats, as Telegram enforces
        self.paid_flood_limit: int | None = None  # the same for messages sent with allow_paid_broadcast
        self.too_many: int = 0  # 429 answers given because of flood_limit or paid_flood_limit
        self.delay = 0.0  # seconds every sendMessage takes before it is delivered
        self.edit_delay = 0.0  # seconds every editMessageText takes before it is applied
        # After this many edits (or: edits in these chats), further ones wait before they are applied,
        # until `edits_go` is set.
        self.hold_edits_after: int | None = None
        self.hold_edits_in: set[int] = set()
        self.edits_go = asyncio.Event()
        # After this many messages, further sendMessage calls wait (undelivered) until `sends_go` is set.
        self.hold_sends_after: int | None = None
        self.sends_go = asyncio.Event()
        self.validate_html = True  # False only in benchmarks that measure the sender, not this fake
        self._recent: deque[float] = deque()  # when the latest messages came (free; paid: _recent_paid)
        self._recent_paid: deque[float] = deque()
        self.webhook: dict[str, str] | None = None  # set by setWebhook: updates are then POSTed there
        self.webhook_answers: list[int] = []  # HTTP status of each webhook delivery
        self._posting: set[asyncio.Task[None]] = set()
        # method -> its next answers: an ApiError, or raw bytes answered with 200 (a broken proxy)
        self.method_failures: dict[str, deque[ApiError | bytes]] = defaultdict(deque)
        self.garbage: dict[int, bytes] = {}  # chat -> raw 200 body for the next sendMessage (delivered)
        self.in_flight = 0  # requests being answered right now
        self._polls: set[asyncio.Future[object]] = set()  # getUpdates waiting: a new one ends them (409)
        self.conflicts = 0  # 409 answers given to getUpdates
        # Update ids the bot under test has finished handling: an in-process bot reports them (see
        # tests/test_bot.py), so tests wait for that event instead of for quiet.
        self.handled: set[int] = set()
        self._handled_changed = asyncio.Event()
        # sendPhoto by URL: Telegram fetches the URL itself; these URLs it cannot use (URL -> description,
        # e.g. "Bad Request: wrong file identifier/HTTP URL specified")
        self.photo_failures: dict[str, str] = {}
        self.app.router.add_route("*", "/bot{token}/{method}", self._dispatch)

    # --- the world ---------------------------------------------------------------------------------

    def add_chat(self, chat_id: int, kind: str, title: str = "", username: str | None = None, **extra: Any) -> None:
        chat: dict[str, Any] = {"id": chat_id, "type": kind, **extra}
        if kind == "private":
            chat["first_name"] = title or f"User {chat_id}"
        else:
            chat["title"] = title or f"Chat {chat_id}"
        if username:
            chat["username"] = username
            self.usernames[username.lower()] = chat_id
        self.chats[chat_id] = chat

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: Any) -> None:
        member: dict[str, Any] = {"status": status, "user": self.user(user_id), **rights}
        if status == "administrator":
            member.setdefault("can_be_edited", False)
            for right in [
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ]:
                member.setdefault(right, False)
        self.members[(chat_id, user_id)] = member

    def user(self, user_id: int) -> dict[str, Any]:
        if user_id == BOT_ID:
            return {"id": BOT_ID, "is_bot": True, "first_name": "HF Weekly", "username": BOT_USERNAME}
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "ko"}

    def fail_next(self, chat_id: int, error: ApiError | None, times: int = 1) -> None:
        """The next `times` requests about this chat fail with `error` (None: they succeed; to order a script)."""
        self.failures[chat_id].extend([error] * times)

    # --- feeding updates ---------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        self._new_update.set()
        if self.webhook is not None:
            task = asyncio.get_running_loop().create_task(self._post_webhook(self.updates[-1]))
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)
        return update_id

    async def _post_webhook(self, update: dict[str, Any], secret: str | None = None) -> None:
        assert self.webhook is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret if secret is not None else self.webhook.get("secret", "")}
        self.delivered_at.setdefault(update["update_id"], time.monotonic())
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=update, headers=headers) as r,
        ):
            self.webhook_answers.append(r.status)

    async def post_with_secret(self, update: dict[str, Any], secret: str) -> int:
        """Deliver an update to the webhook with the given secret header; the HTTP status it got."""
        before = len(self.webhook_answers)
        await self._post_webhook({"update_id": next(self._update_ids), **update}, secret)
        return self.webhook_answers[before]

    def message(
        self,
        user_id: int | None,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        sender_chat_id: int | None = None,
        reply_to: Sent | None = None,
    ) -> int:
        """A user (or, with sender_chat_id, a chat: an anonymous admin) writes `text` in `chat_id`
        (`reply_to`: as a reply to that message of the bot's)."""
        if chat_id not in self.chats:
            self.add_chat(chat_id, "private" if chat_id > 0 else "group")
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "text": text,
        }
        if user_id is not None:
            msg["from"] = self.user(user_id)
        if sender_chat_id is not None:
            msg["sender_chat"] = self.chats[sender_chat_id]
            msg["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
        if reply_to is not None:
            msg["reply_to_message"] = {
                "message_id": reply_to.message_id,
                "date": int(time.time()),
                "chat": self.chats[reply_to.chat_id],
                "from": self.user(BOT_ID),
                "text": parse_telegram_html(reply_to.text)
                if reply_to.params.get("parse_mode") == "HTML"
                else reply_to.text,
            }
        return self.push({"message": msg})

    def press(self, user_id: int, message: Sent, data: str) -> int:
        """A user presses the inline button with callback `data` under `message`."""
        query = {
            "id": f"cb{next(self._update_ids)}",
            "from": self.user(user_id),
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": message.message_id,
                "date": int(time.time()),
                "chat": self.chats[message.chat_id],
                "from": self.user(BOT_ID),
                "text": parse_telegram_html(message.text),
            },
        }
        return self.push({"callback_query": query})

    def my_chat_member(self, chat_id: int, by_user: int, old: str, new: str) -> int:
        return self.push(
            {
                "my_chat_member": {
                    "chat": self.chats[chat_id],
                    "from": self.user(by_user),
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": self.user(BOT_ID)} | _member_extra(old),
                    "new_chat_member": {"status": new, "user": self.user(BOT_ID)} | _member_extra(new),
                }
            }
        )

    # --- reading what the bot did ------------------------------------------------------------------

    def edits_applied(self) -> int:
        return sum(s.method == "editMessageText" for s in self.sent)

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [
            parse_telegram_html(s.text) if s.params.get("parse_mode") == "HTML" else s.text for s in self.to(chat_id)
        ]

    def describe(self) -> str:
        return f"sent so far: {[(s.chat_id, s.text[:60]) for s in self.sent]}"

    def mark_handled(self, update_id: int) -> None:
        self.handled.add(update_id)
        self._handled_changed.set()

    async def handled_update(self, update_id: int, within: float = 60.0) -> None:
        """Wait until the bot reports it has finished handling `update_id` (every reply sent)."""
        async with asyncio.timeout(within):
            while update_id not in self.handled:
                self._handled_changed.clear()
                await self._handled_changed.wait()

    async def idle(self, within: float = 30.0) -> None:
        """Wait until no request is being answered (those already here finish, as they would at Telegram)."""
        await self.wait_for(lambda: self.in_flight == 0, within)

    # --- the API -----------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        _ARRIVED.set(time.monotonic())
        if request.match_info["token"] != self.token:
            return _fail(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            params = await _params(request)
        except ApiError as exc:
            return _fail(exc)
        self.calls.append((method, params))
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _fail(ApiError(404, "Not Found: method not found"))
        try:
            if self.method_failures.get(method):
                failure = self.method_failures[method].popleft()
                raise _Garbage(failure) if isinstance(failure, bytes) else failure
            result = await handler(params)
        except ApiError as exc:
            chat = params.get("chat_id")
            self.rejected.append((method, chat if isinstance(chat, int) else 0, exc.description))
            return _fail(exc)
        except _Garbage as exc:
            return web.Response(body=exc.body, content_type="application/json")
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _chat(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if isinstance(raw, str) and raw.startswith("@"):
            if raw[1:].lower() not in self.usernames:
                raise ApiError(400, "Bad Request: chat not found")
            return self.usernames[raw[1:].lower()]
        chat_id = int(raw)  # type: ignore[arg-type]
        if self.failures.get(chat_id) and (error := self.failures[chat_id].popleft()) is not None:
            raise error
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    async def _m_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.user(BOT_ID) | {"can_join_groups": True, "can_read_all_group_messages": False}

    async def _m_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": str(params["url"]), "secret": str(params.get("secret_token", ""))}
        return True

    async def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        self.commands = params["commands"]
        return True

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """A long poll. As Telegram does, a new getUpdates ends any other one still waiting with 409
        Conflict ("terminated by other getUpdates request"): two instances polling with one token."""
        for other in self._polls:
            if not other.done():
                other.set_result(None)
        terminated: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._polls.add(terminated)
        try:
            return await self._poll(params, terminated)
        finally:
            self._polls.discard(terminated)

    async def _poll(self, params: dict[str, Any], terminated: asyncio.Future[object]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        timeout = float(params.get("timeout", 0))
        deadline = time.monotonic() + timeout
        while True:
            if terminated.done():
                self.conflicts += 1
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            pending = [u for u in self.updates if u["update_id"] >= offset][:limit]
            if pending or time.monotonic() >= deadline:
                now = time.monotonic()
                for u in pending:
                    self.delivered_at.setdefault(u["update_id"], now)
                return pending
            self._new_update.clear()
            news: asyncio.Future[object] = asyncio.ensure_future(self._new_update.wait())
            waiting: set[asyncio.Future[object]] = {news, terminated}
            await asyncio.wait(
                waiting, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
            )
            news.cancel()

    def _check_text(self, params: dict[str, Any]) -> str:
        text = str(params.get("text", ""))
        shown = text
        if params.get("parse_mode") == "HTML" and self.validate_html:
            try:
                shown = parse_telegram_html(text)
            except TelegramHTMLError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        elif params.get("parse_mode") == "HTML":  # not validated: a cheap estimate of the shown text
            shown = html.unescape(re.sub(r"<[^>]*>", "", text))
        if not shown.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(shown) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    def _flood_check(self, params: dict[str, Any]) -> None:
        """Telegram's broadcasting limit: `flood_limit` messages in any second, or `paid_flood_limit`
        for those sent with allow_paid_broadcast (a budget of their own, as modelled here: the Bot API
        says only that they ignore the broadcasting limits, up to 1,000 a second)."""
        paid = _flag(params.get("allow_paid_broadcast"))
        limit, recent = (self.paid_flood_limit, self._recent_paid) if paid else (self.flood_limit, self._recent)
        if limit is None:
            return
        now = time.monotonic()
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= limit:
            self.too_many += 1
            raise retry_after(1)
        recent.append(now)

    async def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold_sends_after is not None and len(self.sent) >= self.hold_sends_after:
            await self.sends_go.wait()
        chat_id = self._chat(params)
        self._flood_check(params)
        text = self._check_text(params)
        thread = params.get("message_thread_id")
        if thread is not None and not self.chats[chat_id].get("is_forum"):
            raise ApiError(400, "Bad Request: message thread not found")
        sent = Sent("sendMessage", chat_id, next(self._message_ids[chat_id]), text, params, _ARRIVED.get())
        self.sent.append(sent)
        self.messages[(chat_id, sent.message_id)] = sent
        if hang := self.hang.pop(chat_id, 0.0):  # delivered, but the answer is late: the client times out
            await asyncio.sleep(hang)
        if (body := self.garbage.pop(chat_id, None)) is not None:  # delivered, answered with nonsense
            raise _Garbage(body)
        return self._message_result(sent)

    async def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.edit_delay:
            await asyncio.sleep(self.edit_delay)
        held = params.get("chat_id") in self.hold_edits_in
        if held or (self.hold_edits_after is not None and self.edits_applied() >= self.hold_edits_after):
            await self.edits_go.wait()
        chat_id = self._chat(params)
        self._flood_check(params)
        message_id = int(params["message_id"])
        if (chat_id, message_id) not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        text = self._check_text(params)
        old = self.messages[(chat_id, message_id)]
        if old.text == text and old.params.get("reply_markup") == params.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        sent = Sent("editMessageText", chat_id, message_id, text, params, _ARRIVED.get())
        self.sent.append(sent)
        self.messages[(chat_id, message_id)] = sent
        return self._message_result(sent)

    def photos(self, chat_id: int) -> list[Sent]:
        return [s for s in self.to(chat_id) if s.method == "sendPhoto"]

    async def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """A photo by URL (or file id) with an optional caption: at most 1,024 UTF-16 units once its HTML
        is parsed, as Telegram counts it; a URL in `photo_failures` is refused as Telegram refuses it."""
        chat_id = self._chat(params)
        self._flood_check(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if photo in self.photo_failures:
            raise ApiError(400, self.photo_failures[photo])
        caption = str(params.get("caption", ""))
        shown = caption
        if params.get("parse_mode") == "HTML":
            try:
                shown = parse_telegram_html(caption)
            except TelegramHTMLError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        if utf16_length(shown) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        thread = params.get("message_thread_id")
        if thread is not None and not self.chats[chat_id].get("is_forum"):
            raise ApiError(400, "Bad Request: message thread not found")
        sent = Sent("sendPhoto", chat_id, next(self._message_ids[chat_id]), caption, params, _ARRIVED.get(), photo)
        self.sent.append(sent)
        self.messages[(chat_id, sent.message_id)] = sent
        result: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": self.user(BOT_ID),
            "photo": [{"file_id": f"photo{sent.message_id}", "file_unique_id": f"u{sent.message_id}", "width": 800,
                       "height": 600}],
        }  # fmt: skip
        if caption:
            result["caption"] = shown
            if params.get("parse_mode") == "HTML":
                result["caption_entities"] = telegram_entities(caption)
        if thread is not None:
            result["message_thread_id"] = int(thread)
        return result

    def inline(self, user_id: int, query: str) -> int:
        """A user types `@bot <query>` in some chat."""
        return self.push(
            {
                "inline_query": {
                    "id": f"iq{next(self._update_ids)}",
                    "from": self.user(user_id),
                    "query": query,
                    "offset": "",
                }
            }
        )

    async def _m_answerinlinequery(self, params: dict[str, Any]) -> bool:
        """As Telegram checks it: at most 50 results, unique ids of 1–64 bytes, every message text
        valid HTML within 4096 characters, titles present, buttons with a URL or callback data."""
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(0 < len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for result in results:
            content = result.get("input_message_content") or {}
            if result.get("type") != "article" or not result.get("title"):
                raise ApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
            self._check_text({"text": content.get("message_text", ""), "parse_mode": content.get("parse_mode")})
            for row in (result.get("reply_markup") or {}).get("inline_keyboard", []):
                if not all(b.get("url") or b.get("callback_data") for b in row):
                    raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
        self.inline_answers.append(params)
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    async def _m_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"), False
        )
        return self.chats[chat_id] | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def _m_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        user_id = int(params["user_id"])
        bot_status = self.members.get((chat_id, BOT_ID), {}).get("status")
        if self.chats[chat_id]["type"] == "channel" and user_id != BOT_ID and bot_status != "administrator":
            raise ApiError(400, "Bad Request: member list is inaccessible")  # a channel shows its members to admins
        return self.members.get((chat_id, user_id), {"status": "left", "user": self.user(user_id)})

    def _message_result(self, sent: Sent) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": self.chats[sent.chat_id],
            "from": self.user(BOT_ID),
            "text": sent.text,
        }
        if sent.params.get("parse_mode") == "HTML":  # as Telegram answers: the shown text and its entities
            with contextlib.suppress(TelegramHTMLError):  # not validated (a sender's benchmark): as it came
                result["text"], result["entities"] = parse_telegram_html(sent.text), telegram_entities(sent.text)
        if "inline_keyboard" in (sent.params.get("reply_markup") or {}):  # Telegram echoes inline keyboards only
            result["reply_markup"] = sent.params["reply_markup"]
        if "message_thread_id" in sent.params:
            result["message_thread_id"] = int(sent.params["message_thread_id"])
        return result


def _flag(value: object) -> bool:
    """A Boolean parameter as Telegram reads it: true, or the string "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _member_extra(status: str) -> dict[str, Any]:
    if status == "administrator":
        return {
            "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": False,
            "can_manage_video_chats": False, "can_restrict_members": False, "can_promote_members": False,
            "can_change_info": False, "can_invite_users": False, "can_post_stories": False,
            "can_edit_stories": False, "can_delete_stories": False, "can_post_messages": True,
        }  # fmt: skip
    if status == "kicked":
        return {"until_date": 0}
    return {}


async def _params(request: web.Request) -> dict[str, Any]:
    """A method's parameters, from a JSON body or a form, read as Telegram reads them: in both, a
    JSON-serialized field may come as a string of JSON and a number as a string of digits."""
    params: dict[str, Any] = {}
    if request.content_type == "application/json":
        data = await request.json()
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request: the JSON body must be an object")
        params.update(data)
    else:
        form = await request.post()
        params.update((key, value if isinstance(value, str) else "") for key, value in form.items())
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    for key in ("message_id", "message_thread_id", "user_id"):
        if isinstance(params.get(key), str) and params[key].isdigit():
            params[key] = int(params[key])
    if isinstance(params.get("chat_id"), str) and params["chat_id"].lstrip("-").isdigit():
        params["chat_id"] = int(params["chat_id"])
    return params


def _fail(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code, dumps=_dumps)


def retry_after(seconds: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


def blocked() -> ApiError:
    return ApiError(403, "Forbidden: bot was blocked by the user")


def kicked() -> ApiError:
    return ApiError(403, "Forbidden: bot was kicked from the group chat")


def not_found() -> ApiError:
    return ApiError(400, "Bad Request: chat not found")


def migrated(new_chat_id: int) -> ApiError:
    return ApiError(
        400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id}
    )
