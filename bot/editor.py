"""The editor: the one place that edits what was sent. When a paper's text changes — a pending paper
translated at last (healing), or an admin's correction — every message already sent that shows the
paper is brought up to date: the weekly digest in every chat (in the layout it was sent), digests sent
in answer to /week, and paper answers (with their placeholders).

- Only the messages that show the changed paper: the paper→message index (bot/store/edits.py), kept
  as messages are sent. Each ref is rendered once per pass; a message is edited only if the hash of
  its text differs from the new text's.
- Its own job (never the scheduler's tick: the tick only wakes it), one at a time across processes (a
  Redis lock, renewed while it works), paced by the one send limiter behind replies and the broadcast.
- Resumable: each message's new hash is recorded as its edit lands, so a killed editor resumes where
  it stopped; the one edit in flight at a kill is sent again with the same text, which Telegram
  refuses as "not modified" — no message shows a change twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.digest import DigestService
from bot.errors import StoreError
from bot.layout import Layout
from bot.limiter import PACED, Priority, SendLimiter, seconds
from bot.metrics import EDITS
from bot.refs import Kind, Ref, parse_member, text_hash
from bot.rerender import Renders
from bot.sendpolicy import NO_PREVIEW_JSON, Bot
from bot.store import DeliveryStore, EditStore
from bot.translate import Translator
from bot.week import IsoWeek

log = logging.getLogger(__name__)

EDIT_MESSAGE = "editmessagetext"  # lower case: see SEND_MESSAGE in bot/sendpolicy.py
BATCH = 100  # dirty refs read at a time
# What Telegram answers when the message cannot be edited any more: dropped from the index.
GONE = ("message to edit not found", "message_id_invalid", "message can't be edited", "chat not found",
        "not enough rights", "have no rights", "chat_write_forbidden")  # fmt: skip


class Edit(StrEnum):
    EDITED = "edited"
    SAME = "same"  # Telegram says it shows that text already
    GONE = "gone"  # deleted, too old, the bot removed: dropped from the index
    RETRY = "retry"  # Telegram could not be reached, or refused for another reason: a later pass tries again


@dataclass
class EditRun:
    """What one pass did."""

    refs: int = 0
    edited: int = 0
    same: int = 0
    gone: int = 0
    retry: int = 0
    busy: bool = False  # another process holds the editor lock

    def count(self, edit: Edit) -> None:
        setattr(self, edit.value, getattr(self, edit.value) + 1)


class Editor:
    def __init__(
        self,
        bot: Bot,
        digests: DigestService,
        translator: Translator | None,
        limiter: SendLimiter,
        *,
        edits: EditStore,
        delivery: DeliveryStore,
        tz: ZoneInfo,
        clock: Callable[[], datetime],
        lock_seconds: float = 30.0,
        concurrency: int = 16,
    ) -> None:
        self._bot, self._edits, self._digests, self._translator = bot, edits, digests, translator
        self._delivery = delivery  # the broadcast's layouts, to render its messages again
        self._limiter, self._tz, self._clock = limiter, tz, clock
        self._lock_timeout = timedelta(seconds=lock_seconds)
        self._concurrency = concurrency
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._stopped = False

    # --- the index: what each message sent shows ----------------------------------------------------

    async def index_messages(
        self,
        chat_id: int,
        messages: Sequence[tuple[Ref, int, str]],
        papers_by_ref: Mapping[Ref, Iterable[str]],
        *,
        reused: Iterable[int] = (),
        layout: tuple[IsoWeek, str, Layout] | None = None,
        with_buttons: int | None = None,
    ) -> None:
        """Index messages sent in a reply (ref, message id, text hash) so that a pass finds them when a
        paper they show changes (bot/store/edits.py says how)."""
        await self._edits.index_messages(
            chat_id, messages, papers_by_ref, reused=reused, layout=layout, with_buttons=with_buttons
        )

    async def forget_message(self, chat_id: int, message_id: int) -> None:
        """The message no longer shows what it was indexed under: no later change edits it."""
        await self._edits.forget_message(chat_id, message_id)

    async def refs_showing(self, paper_id: str) -> int:
        """How many refs (texts of messages sent: a week's part, a paper's answer) show the paper."""
        return len(await self._edits.refs_showing(paper_id))

    # --- the job -----------------------------------------------------------------------------------

    def wake(self) -> None:
        """Start a pass now, as a task of its own (or another after the one under way)."""
        if self._stopped:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.create_task(self._passes(), name="editor")

    async def stop(self) -> None:
        """Shutdown: the pass under way stops (its progress is kept)."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def idle(self) -> None:
        """Wait for the passes under way to end (tests, benchmarks)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait({self._task})

    async def _passes(self) -> None:
        while True:
            self._again = False
            try:
                await self.run()
            except StoreError as exc:  # Redis away: the scheduler wakes the editor again later
                log.warning("The editor stopped: %s", exc)
            except Exception:
                log.exception("The editor failed")
            if not self._again or self._stopped:
                return

    async def run(self) -> EditRun:
        """One pass over every ref due for editing, holding the editor lock (busy when another
        process holds it). A ref whose edits failed stays due, for a later pass."""
        done = EditRun()
        lock = self._edits.editor_lock(timeout=self._lock_timeout)
        if not await lock.acquire(0):
            done.busy = True
            return done
        lost = asyncio.Event()
        renewal = asyncio.create_task(lock.keep(lost, every=self._lock_timeout / 3, what="the editor"))
        try:
            await self._edits.promote_rechecks()
            renders = Renders(
                self._digests, self._translator, self._bot.username, self._tz, self._clock(),
                delivery=self._delivery, edits=self._edits,
            )  # fmt: skip
            failed: set[str] = set()  # refs to try again in a later pass (read past them meanwhile)
            while not lost.is_set():
                batch = [(r, seq) for r, seq in await self._edits.dirty_refs(BATCH + len(failed)) if r not in failed]
                if not batch:
                    break
                renders.seen = max(renders.seen, *(seq for _, seq in batch))
                for ref, seq in batch:
                    if lost.is_set():
                        break
                    try:
                        ok = await self._ref(ref, seq, renders, done, lost)
                    except StoreError:
                        raise
                    except Exception:  # a bug with one ref must not stop the others
                        log.exception("Editor: bringing %s up to date failed", ref)
                        ok = False
                    if not ok:
                        failed.add(ref)
            if done.refs:
                log.info("Editor: %d refs, %d messages edited, %d gone, %d to retry", done.refs, done.edited,
                         done.gone, done.retry)  # fmt: skip
            return done
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            await lock.release()

    async def _ref(self, ref: str, seq: int, renders: Renders, done: EditRun, lost: asyncio.Event) -> bool:
        """Bring every message under one ref up to date; False when some edit must be tried again."""
        done.refs += 1
        parsed = Ref.parse(ref)
        rendered = await renders.get(parsed, seq) if parsed is not None else None
        if rendered is None:  # its layout or paper is gone: nothing to render the messages from
            log.warning("Editor: cannot render %s; its messages stay as they are", ref)
            await self._edits.ref_done(ref, seq)
            return True
        text, markup = rendered
        digest = text_hash(text)
        messages = await self._edits.ref_messages(ref)
        todo: asyncio.Queue[str] = asyncio.Queue()
        for key in sorted(m for m, shown in messages.items() if shown != digest):
            todo.put_nowait(key)
        await self._edits.start_pass(ref, len(messages) - todo.qsize())
        retry = False
        movable = parsed is not None and parsed.kind is Kind.REPLY  # a ◀ ▶ button may turn it into another week

        async def worker() -> None:
            nonlocal retry
            while not todo.empty() and not lost.is_set():
                key = todo.get_nowait()
                target = parse_member(key)
                if movable and not await self._edits.shows_message(ref, key):
                    continue  # turned into another week meanwhile: no longer this ref's
                edit = Edit.GONE if target is None else await self._edit(*target, text, markup)
                done.count(edit)
                EDITS.labels(edit.value).inc()
                if edit in (Edit.EDITED, Edit.SAME):
                    await self._edits.message_edited(ref, key, digest, counted=edit is Edit.EDITED, if_shown=movable)
                elif edit is Edit.GONE:
                    await self._edits.message_gone(ref, key)
                else:
                    retry = True
                    await self._edits.edit_failed()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._concurrency, todo.qsize())):
                    group.create_task(worker())
        except* StoreError as failures:  # Redis gone: the pass stops
            raise failures.exceptions[0] from None
        if retry or lost.is_set() or not todo.empty():
            return False
        await self._edits.ref_done(ref, seq)
        return True

    async def _edit(self, chat_id: int, message_id: int, text: str, markup: dict[str, Any] | None) -> Edit:
        params: dict[str, object] = {
            "chat_id": chat_id, "message_id": message_id, "text": text, "parse_mode": "HTML",
            "link_preview_options": NO_PREVIEW_JSON,
        }  # fmt: skip
        if markup is not None:  # an edit without its buttons would remove them
            params["reply_markup"] = markup
        while True:
            await self._limiter.acquire(chat_id, Priority.EDIT)
            try:
                await self._bot.do_api_request(EDIT_MESSAGE, api_kwargs=params, rate_limit_args=PACED)
                return Edit.EDITED
            except RetryAfter as exc:  # what Telegram paused waits, then this edit goes again
                await self._limiter.flood(seconds(exc.retry_after), chat_id, Priority.EDIT)
            except (Forbidden, ChatMigrated) as exc:  # blocked, kicked, or the group has a new id
                log.info("Cannot edit message %s in chat %s: %s", message_id, chat_id, exc.message)
                return Edit.GONE
            except BadRequest as exc:
                reason = exc.message.lower()
                if "not modified" in reason:
                    return Edit.SAME
                if any(gone in reason for gone in GONE):
                    log.info("Cannot edit message %s in chat %s: %s", message_id, chat_id, exc.message)
                    return Edit.GONE
                log.warning("Telegram refused to edit message %s in chat %s: %s", message_id, chat_id, exc.message)
                return Edit.RETRY  # not the message's fault (our text?): kept, tried by a later pass
            except TelegramError as exc:
                log.warning("Could not edit message %s in chat %s: %s", message_id, chat_id, exc)
                return Edit.RETRY
