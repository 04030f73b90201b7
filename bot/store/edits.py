"""The paper→message index and the editor's queue (bot/editor.py).

    shows:<paper id>        set of refs (bot/refs.py) of the messages that show the paper
    shown:<ref>             hash "chat:message" -> hash of the text that message shows now ("_": TTL marker)
    shown:<week>:layouts    hash layout key -> JSON Layout of the digests sent in answer to /week
    msgref:<chat>           hash message id -> ref, for messages a button can turn into another week's
    edit:dirty              sorted set ref -> change number: refs whose messages may show an old text
    edit:later              sorted set ref -> when to look at it once more (RECHECK after a change)
    edit:seq                the change counter
    edit:progress           hash ref -> messages already brought up to date in its current pass
    edit:stats              hash edited / gone / failed: counts since the start
    lock:editor             one editor at a time across processes

A paper's text changes (translated at last, or corrected): its refs go into `edit:dirty` under a new
change number. The editor renders each dirty ref once, edits the messages whose hash differs and
records the new hash as each edit lands, so a killed editor resumes where it stopped. A ref leaves the
queue only if no change came meanwhile (compare-and-remove on its change number, under WATCH: no Lua,
so the in-process store of `hfweekly digest` without Redis works too).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from pydantic import TypeAdapter
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from bot.layout import Layout
from bot.refs import Ref
from bot.store.base import StoreBase, call
from bot.store.runs import PublishLock
from bot.week import IsoWeek

INDEX_TTL = timedelta(days=400)  # as long as the ledger: a message older than that is not edited any more
TTL_FIELD = "_"

_LAYOUT = TypeAdapter(Layout)
# A second look at a changed paper's refs after this: longer than another process may serve a digest
# from memory (bot/digest.py's MEMO_SECONDS, 60 s), so replies it sent meanwhile are caught.
RECHECK = timedelta(seconds=90)
KNOWN_REFS = 10_000  # refs this process has indexed what they show (forgotten past this many)


@dataclass(frozen=True)
class EditStats:
    dirty: int  # refs waiting
    pending: int  # messages under them not yet brought up to date (at most)
    edited: int
    gone: int  # deleted, or the bot was removed: dropped from the index
    failed: int  # Telegram failed: tried again by a later pass


class EditStore(StoreBase):
    def __init__(self, redis: Redis, prefix: str = "hfweekly") -> None:
        super().__init__(redis, prefix)
        self._known_refs: set[str] = set()  # what these refs show is in Redis already

    # --- writing the index as messages are sent ------------------------------------------------

    async def index_refs(self, papers_by_ref: Mapping[Ref, Iterable[str]]) -> None:
        """Each ref shows these papers (called once per ref: when a layout is first rendered in a run)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            self._queue_refs(pipe, papers_by_ref)
            await call(pipe.execute())

    def _queue_refs(self, pipe: Pipeline, papers_by_ref: Mapping[Ref, Iterable[str]]) -> None:
        """Queue "each ref shows these papers" (and the refs' TTLs) on a pipeline."""
        for ref, papers in papers_by_ref.items():
            shown = self._shown(str(ref))
            pipe.hsetnx(shown, TTL_FIELD, "1")
            pipe.expire(shown, INDEX_TTL)
            for paper in papers:
                pipe.sadd(self._key("shows", paper), str(ref))
                pipe.expire(self._key("shows", paper), INDEX_TTL)

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
        """Messages sent in a reply (ref, message id, text hash), what each ref shows, and the layout
        they were sent in (a /week answer's). A `reused` message (a ◀ ▶ button turned it into another
        week) leaves the ref it was under; the message `with_buttons` (that a button may turn) has its
        ref noted for that. One round trip (two with `reused`); what a ref shows and its layout are
        written once per process (they never change), so a reply writes a few commands."""
        where = self._key("msgref", str(chat_id))
        ids = [str(m) for m in reused]
        found: list[str | None] = await call(self._redis.hmget(where, ids)) if ids else []
        old = {int(m): ref for m, ref in zip(ids, found, strict=True) if ref is not None}
        fresh = {ref: papers for ref, papers in papers_by_ref.items() if str(ref) not in self._known_refs}
        async with self._redis.pipeline(transaction=False) as pipe:
            if layout is not None and fresh:
                week, key, kept = layout
                name = self._key("shown", str(week), "layouts")
                pipe.hsetnx(name, key, _LAYOUT.dump_json(kept))
                pipe.expire(name, INDEX_TTL)
            self._queue_refs(pipe, fresh)
            for ref, message_id, digest in messages:
                member = f"{chat_id}:{message_id}"
                before = old.get(message_id)
                if before is not None and before != str(ref):
                    pipe.hdel(self._shown(before), member)
                pipe.hset(self._shown(str(ref)), member, digest)
                if message_id == with_buttons:
                    pipe.hset(where, str(message_id), str(ref))
                    pipe.expire(where, INDEX_TTL)
            await call(pipe.execute())
        if len(self._known_refs) > KNOWN_REFS:
            self._known_refs.clear()
        self._known_refs.update(str(ref) for ref in fresh)
        if fresh:  # the editor looks at a new ref once: its first reply may come from a digest up to a
            await self.refs_changed(str(ref) for ref in fresh)  # minute old in another process's memory

    async def reply_layouts(self, week: IsoWeek) -> dict[str, Layout]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("shown", str(week), "layouts")))
        return {
            k: v for k, v in ((k, self._decode(_LAYOUT, v, f"reply layout {k} of {week}")) for k, v in raw.items()) if v
        }

    async def refs_showing(self, paper_id: str) -> set[str]:
        found: set[str] = await call(self._redis.smembers(self._key("shows", paper_id)))
        return found

    # --- the editor's queue ------------------------------------------------------------------------

    async def paper_changed(self, paper_id: str) -> int:
        """The paper's text changed: every ref that shows it is due for editing now, and once more
        after RECHECK (a reply another process sent meanwhile from its in-memory digest may show the
        old text; the second look edits only what differs). How many refs."""
        refs = await self.refs_showing(paper_id)
        await self.refs_changed(refs)
        if refs:
            later = self._key("edit", "later")
            await call(self._redis.zadd(later, dict.fromkeys(refs, time.time() + RECHECK.total_seconds())))
        return len(refs)

    async def promote_rechecks(self, now: float | None = None) -> int:
        """The refs whose second look has come (by `now`, epoch seconds) are due for editing. How many."""
        later = self._key("edit", "later")
        due: list[str] = await call(self._redis.zrangebyscore(later, "-inf", time.time() if now is None else now))
        if due:
            await self.refs_changed(due)
            await call(self._redis.zrem(later, *due))
        return len(due)

    async def refs_changed(self, refs: Iterable[str]) -> None:
        """These refs are due for editing, under a new change number (their pass starts over)."""
        refs = list(refs)
        if not refs:
            return
        seq = int(await call(self._redis.incr(self._key("edit", "seq"))))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._key("edit", "dirty"), dict.fromkeys(refs, seq))
            pipe.hdel(self._key("edit", "progress"), *refs)
            await call(pipe.execute())

    async def dirty_refs(self, limit: int = 100) -> list[tuple[str, int]]:
        """The refs due for editing, oldest change first, with their change numbers."""
        found: list[tuple[str, float]] = await call(
            self._redis.zrange(self._key("edit", "dirty"), 0, limit - 1, withscores=True)
        )
        return [(ref, int(score)) for ref, score in found]

    async def ref_done(self, ref: str, seq: int) -> bool:
        """Take the ref off the queue unless a change came since `seq` (then it stays, for another pass):
        compare-and-remove under WATCH."""
        dirty = self._key("edit", "dirty")

        async def step(pipe: Pipeline) -> bool:
            score = await pipe.zscore(dirty, ref)
            if score is None or int(score) != seq:
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.zrem(dirty, ref)
            pipe.hdel(self._key("edit", "progress"), ref)
            await pipe.execute()
            return True

        return await self._watching(dirty, step, default=False)

    async def ref_messages(self, ref: str) -> dict[str, str]:
        """ "chat:message" -> the hash of the text it shows, of every message under the ref."""
        found: dict[str, str] = await call(self._redis.hgetall(self._shown(ref)))
        found.pop(TTL_FIELD, None)
        return found

    async def start_pass(self, ref: str, current: int) -> None:
        """A pass over the ref's messages begins; `current` of them show the new text already."""
        await call(self._redis.hset(self._key("edit", "progress"), ref, current))

    async def index_sent(self, messages: Iterable[tuple[Ref, str]]) -> None:
        """Index messages sent before there was an index (ref, "chat:message"), with no text known:
        the editor's next pass over their refs edits each once (an unchanged one answers "not modified")."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for ref, member in messages:
                pipe.hset(self._shown(str(ref)), member, "-")
            await call(pipe.execute())

    async def shows_message(self, ref: str, member: str) -> bool:
        """Is the message still under the ref (a ◀ ▶ button may have turned it into another week)?"""
        return bool(await call(self._redis.hexists(self._shown(ref), member)))

    async def message_edited(
        self, ref: str, member: str, digest: str, *, counted: bool = True, if_shown: bool = False
    ) -> None:
        """The message shows `digest`'s text now (`counted`: an edit landed; else it showed it already).
        `if_shown`: written only if the message is still under the ref, so that a message a button moved
        to another ref during the edit is not put back under this one. (Checked just before the write,
        not under WATCH: the editor's workers write the same hash all the time, and a WATCH would keep
        failing; what is left is a press landing within that one round trip.)"""
        shown = self._shown(ref)
        if if_shown and not await call(self._redis.hexists(shown, member)):
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(shown, member, digest)
            pipe.hincrby(self._key("edit", "progress"), ref, 1)
            if counted:
                pipe.hincrby(self._key("edit", "stats"), "edited", 1)
            await call(pipe.execute())

    async def forget_message(self, chat_id: int, message_id: int) -> None:
        """The message no longer shows what it was indexed under (a ◀ ▶ button turned it into "생성 중…"
        or an error): out of the index, so that no later change edits it back."""
        where = self._key("msgref", str(chat_id))
        ref = await call(self._redis.hget(where, str(message_id)))
        if ref is not None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(self._shown(ref), f"{chat_id}:{message_id}")
                pipe.hdel(where, str(message_id))
                await call(pipe.execute())

    async def message_gone(self, ref: str, member: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hdel(self._shown(ref), member)
            pipe.hincrby(self._key("edit", "stats"), "gone", 1)
            await call(pipe.execute())

    async def edit_failed(self) -> None:
        await call(self._redis.hincrby(self._key("edit", "stats"), "failed", 1))

    async def edit_stats(self) -> EditStats:
        dirty = [ref for ref, _ in await self.dirty_refs(limit=10_000)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for ref in dirty:
                pipe.hlen(self._shown(ref))
            pipe.hmget(self._key("edit", "progress"), dirty or ["-"])
            pipe.hgetall(self._key("edit", "stats"))
            *sizes, progress, stats = await call(pipe.execute())
        pending = sum(max(0, size - 1 - int(done or 0)) for size, done in zip(sizes, progress, strict=False))
        return EditStats(len(dirty), pending, *(int(stats.get(k, 0)) for k in ("edited", "gone", "failed")))

    def editor_lock(self, *, timeout: timedelta) -> PublishLock:
        return PublishLock(
            self._redis.lock(self._key("lock", "editor"), timeout=timeout.total_seconds(), blocking=False)
        )
