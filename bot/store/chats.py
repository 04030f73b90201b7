"""Subscriptions, each chat's settings, and the index of chats per weekly slot.

The index holds, for each slot, the chats that are to get the digest then: subscribed, active and not
paused. It is kept up to date by every write of a subscription or of settings (in the same MULTI), so
a scheduler tick reads only the chats of the slots that are due, never every subscription.

Every change of a chat is a function of what the chat has now (`ChatState`), applied under WATCH of
that chat's own write token (`chat:<id>:w`), which every write of the chat's records sets (and deletes
again) in its MULTI: a change made meanwhile by another update, process or replica makes the function run again on
the new state, so two changes at once (two taps on different settings) both stay, and chats never
wait for one another (a WATCH on a key every chat writes, such as `slot_of`, would make a burst of
chats retry for everyone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter
from redis.asyncio.client import Pipeline

from bot.errors import StoreError
from bot.models import ALL_SLOT_KEYS, ChatKind, ChatSettings, Subscription
from bot.store.base import StoreBase, call, log

T = TypeVar("T")
CHUNK = 1000  # fields per HMGET / commands per pipeline
WRITE_ATTEMPTS = 10  # collisions with writes of the same chat before giving up (StoreError)

_SUBSCRIPTION = TypeAdapter(Subscription)
_SETTINGS = TypeAdapter(ChatSettings)


def _slot(sub: Subscription | None, settings: ChatSettings | None) -> str | None:
    """The slot a chat is indexed under: None unless it is subscribed, active and not paused."""
    if sub is None or not sub.active or (settings is not None and settings.paused):
        return None
    return (settings or ChatSettings()).slot


def chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    return (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK))


@dataclass(frozen=True)
class ChatState:
    """What the store keeps of one chat: its subscription and its settings, either possibly absent."""

    sub: Subscription | None = None
    settings: ChatSettings | None = None

    @property
    def slot(self) -> str | None:
        return _slot(self.sub, self.settings)


@dataclass(frozen=True)
class _Stored:
    """A chat as read before a change: its state, its slot in the index, and which records exist (an
    unreadable one included)."""

    state: ChatState
    slot: str | None
    has_sub: bool
    has_settings: bool

    def sub_differs(self, after: ChatState) -> bool:
        return after.sub != self.state.sub or (after.sub is None and self.has_sub)

    def settings_differs(self, after: ChatState) -> bool:
        return after.settings != self.state.settings or (after.settings is None and self.has_settings)

    def differs(self, after: ChatState) -> bool:
        return self.sub_differs(after) or self.settings_differs(after) or after.slot != self.slot


def _text(found: str | bytes | None) -> str | None:
    return found.decode() if isinstance(found, bytes) else found


Change = Callable[[ChatState], ChatState]
"""A change of one chat: pure, as it runs again when the chat was written meanwhile."""


class ChatStore(StoreBase):
    # --- subscriptions ---------------------------------------------------------------------------

    async def get_subscription(self, chat_id: int) -> Subscription | None:
        raw = await call(self._redis.hget(self._key("subs"), str(chat_id)))
        return self._decode(_SUBSCRIPTION, raw, f"subscription {chat_id}") if raw else None

    async def subscriptions_of(self, ids: Sequence[int]) -> dict[int, Subscription]:
        """The subscriptions of these chats (those that have one), read in chunks."""
        return await self._read_many(self._key("subs"), ids, _SUBSCRIPTION, "subscription of")

    async def list_subscriptions(self) -> list[Subscription]:
        raw: dict[str, str] = await call(self._redis.hgetall(self._key("subs")))
        subs = (self._decode(_SUBSCRIPTION, value, f"subscription {chat}") for chat, value in raw.items())
        return sorted((s for s in subs if s is not None), key=lambda s: s.chat_id)

    async def change_subscription(
        self, chat_id: int, change: Callable[[Subscription | None], Subscription | None]
    ) -> tuple[ChatState, ChatState]:
        """Apply `change` (pure) to the chat's subscription as it is when written (None: it has none;
        returning None removes it); the chat's state before and after. Its settings stay."""
        return await self.change_chat(chat_id, lambda state: replace(state, sub=change(state.sub)))

    async def save_subscription(self, sub: Subscription) -> None:
        """Its settings are kept as they are (a change made meanwhile stays)."""
        await self.change_subscription(sub.chat_id, lambda _: sub)

    async def delete_subscription(self, chat_id: int) -> bool:
        """Remove a chat's subscription (its settings are kept, for when it subscribes again)."""
        before, _ = await self.change_subscription(chat_id, lambda _: None)
        return before.sub is not None

    async def move_subscription(self, old_chat_id: int, new_chat_id: int, now: datetime) -> Subscription | None:
        """A group became a supergroup: the subscription and the settings follow it to its new id (a
        subscription the supergroup has of its own already stays as it is), both chats in one MULTI."""

        def move(states: Sequence[ChatState]) -> list[ChatState]:
            old, new = states
            if old.sub is None:
                return list(states)
            moved = new.sub or replace(old.sub, chat_id=new_chat_id, kind=ChatKind.SUPERGROUP, updated=now)
            return [replace(old, sub=None), ChatState(moved, new.settings or old.settings)]

        befores, afters = await self._change_chats([old_chat_id, new_chat_id], move)
        return afters[1].sub if befores[0].sub is not None else None

    # --- settings --------------------------------------------------------------------------------

    async def get_settings(self, chat_id: int) -> ChatSettings | None:
        raw = await call(self._redis.hget(self._key("chat_settings"), str(chat_id)))
        return self._decode(_SETTINGS, raw, f"settings of {chat_id}") if raw else None

    async def settings_of(self, ids: Sequence[int]) -> dict[int, ChatSettings]:
        """The settings of these chats (those that chose any), read in chunks."""
        return await self._read_many(self._key("chat_settings"), ids, _SETTINGS, "settings of")

    async def _read_many(self, key: str, ids: Sequence[int], adapter: TypeAdapter[T], what: str) -> dict[int, T]:
        found = {}
        for part in chunks(ids):
            raw: list[str | None] = await call(self._redis.hmget(key, [str(i) for i in part]))
            for chat_id, value in zip(part, raw, strict=True):
                if value and (decoded := self._decode(adapter, value, f"{what} {chat_id}")) is not None:
                    found[chat_id] = decoded
        return found

    async def change_settings(
        self, chat_id: int, change: Callable[[ChatSettings], ChatSettings]
    ) -> tuple[ChatState, ChatState]:
        """Apply `change` (pure) to the chat's settings as they are when written (the defaults when it
        chose none); the chat's state before and after. Nothing is written when nothing changes."""

        def changed(state: ChatState) -> ChatState:
            current = state.settings or ChatSettings()
            new = change(current)
            return state if new == current else replace(state, settings=new)

        return await self.change_chat(chat_id, changed)

    async def save_settings(self, chat_id: int, settings: ChatSettings) -> None:
        await self.change_chat(chat_id, lambda state: replace(state, settings=settings))

    # --- one chat's records, changed atomically ---------------------------------------------------

    async def change_chat(self, chat_id: int, change: Change) -> tuple[ChatState, ChatState]:
        """Apply `change` to the chat's subscription and settings, and move it in the index, atomically;
        the state it replaced and the state written."""
        befores, afters = await self._change_chats([chat_id], lambda states: [change(states[0])])
        return befores[0], afters[0]

    def _token(self, chat_id: int) -> str:
        return self._key("chat", str(chat_id), "w")

    async def _change_chats(
        self, ids: Sequence[int], change: Callable[[Sequence[ChatState]], list[ChatState]]
    ) -> tuple[list[ChatState], list[ChatState]]:
        """Read the chats' states under WATCH of their write tokens, apply `change`, write what changed
        (and the index, and the tokens) in one MULTI; again on a collision with another write of them."""

        async def step(pipe: Pipeline) -> tuple[list[ChatState], list[ChatState]]:
            await pipe.watch(*(self._token(i) for i in ids))
            reads = [await self._read(pipe, chat_id) for chat_id in ids]
            befores = [read.state for read in reads]
            afters = change(befores)
            writes = [
                (chat_id, read, after)
                for chat_id, read, after in zip(ids, reads, afters, strict=True)
                if read.differs(after)
            ]
            if writes:
                pipe.multi()  # type: ignore[no-untyped-call]
                for chat_id, read, after in writes:
                    self._queue(pipe, chat_id, after, old_slot=read.slot, write_sub=read.sub_differs(after),
                                write_settings=read.settings_differs(after))  # fmt: skip
                await pipe.execute()
            return befores, afters

        done = await self._watching(self._token(ids[0]), step, default=None, attempts=WRITE_ATTEMPTS)
        if done is None:
            raise StoreError(f"could not save chats {list(ids)}: written by others {WRITE_ATTEMPTS} times meanwhile")
        return done

    async def _read(self, pipe: Pipeline, chat_id: int) -> _Stored:
        """A chat's records, read on a pipeline that WATCHes its token (one command at a time)."""
        raw = [_text(await pipe.hget(self._key(key), str(chat_id))) for key in ("subs", "chat_settings", "slot_of")]
        sub = self._decode(_SUBSCRIPTION, raw[0], f"subscription {chat_id}") if raw[0] else None
        settings = self._decode(_SETTINGS, raw[1], f"settings of {chat_id}") if raw[1] else None
        return _Stored(ChatState(sub, settings), raw[2], has_sub=raw[0] is not None, has_settings=raw[1] is not None)

    # --- the slot index --------------------------------------------------------------------------

    async def slot_chats(self, slot: str) -> list[int]:
        """The chats indexed under a slot (subscribed, active, not paused)."""
        members: set[str] = await call(self._redis.smembers(self._key("slot", slot)))
        return sorted(int(m) for m in members)

    async def slot_of(self, chat_id: int) -> str | None:
        found: str | None = await call(self._redis.hget(self._key("slot_of"), str(chat_id)))
        return found

    async def ensure_slot_index(self) -> None:
        """Build the index from every subscription once (subscriptions made before it existed)."""
        if await call(self._redis.exists(self._key("slots", "indexed"))):
            return
        subs = await self.list_subscriptions()
        settings = await self.settings_of([s.chat_id for s in subs])
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key("slot_of"), *(self._key("slot", slot) for slot in ALL_SLOT_KEYS))
            for sub in subs:
                if (slot := _slot(sub, settings.get(sub.chat_id))) is not None:
                    pipe.sadd(self._key("slot", slot), str(sub.chat_id))
                    pipe.hset(self._key("slot_of"), str(sub.chat_id), slot)
            pipe.set(self._key("slots", "indexed"), "1")
            await call(pipe.execute())
        log.info("Indexed %d subscriptions by weekly slot", len(subs))

    async def save_chats(self, chats: Sequence[tuple[Subscription, ChatSettings | None]]) -> None:
        """Write many subscriptions (and settings) at once, indexed: for imports and benchmarks (not
        atomic per chat: not while the bot changes the same chats)."""
        for start in range(0, len(chats), CHUNK):
            part = chats[start : start + CHUNK]
            olds: list[str | None] = await call(
                self._redis.hmget(self._key("slot_of"), [str(s.chat_id) for s, _ in part])
            )
            async with self._redis.pipeline(transaction=False) as pipe:
                for (sub, settings), old in zip(part, olds, strict=True):
                    self._queue(pipe, sub.chat_id, ChatState(sub, settings), old_slot=old, write_sub=True,
                                write_settings=settings is not None)  # fmt: skip
                await call(pipe.execute())

    def _queue(
        self, pipe: Any, chat_id: int, after: ChatState, *, old_slot: str | None, write_sub: bool, write_settings: bool
    ) -> None:
        """Queue the writes that make a chat's records `after`: the records asked for, its place in the
        index, and its write token (so a change of it under WATCH meanwhile runs again)."""
        member = str(chat_id)
        if write_sub:
            if after.sub is None:
                pipe.hdel(self._key("subs"), member)
            else:
                pipe.hset(self._key("subs"), member, _SUBSCRIPTION.dump_json(after.sub))
        if write_settings:
            if after.settings is None:
                pipe.hdel(self._key("chat_settings"), member)
            else:
                pipe.hset(self._key("chat_settings"), member, _SETTINGS.dump_json(after.settings))
        if (new := after.slot) != old_slot:
            if old_slot is not None:
                pipe.srem(self._key("slot", old_slot), member)
            if new is None:
                pipe.hdel(self._key("slot_of"), member)
            else:
                pipe.sadd(self._key("slot", new), member)
                pipe.hset(self._key("slot_of"), member, new)
        # Set and deleted at once: every WATCH of it is broken (Redis counts any write of a watched key),
        # and no key per chat is left behind.
        pipe.set(self._token(chat_id), "1")
        pipe.delete(self._token(chat_id))
