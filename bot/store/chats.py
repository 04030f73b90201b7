"""Subscriptions, each chat's settings, and the index of chats per weekly slot.

The index holds, for each slot, the chats that are to get the digest then: subscribed, active and not
paused. It is kept up to date by every write of a subscription or of settings (in the same MULTI), so
a scheduler tick reads only the chats of the slots that are due, never every subscription.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter
from redis.exceptions import RedisError, WatchError

from bot.errors import StoreError
from bot.models import ALL_SLOT_KEYS, ChatKind, ChatSettings, Subscription
from bot.store.base import StoreBase, call, log

T = TypeVar("T")
CHUNK = 1000  # fields per HMGET / commands per pipeline
WRITE_ATTEMPTS = 10

_SUBSCRIPTION = TypeAdapter(Subscription)
_SETTINGS = TypeAdapter(ChatSettings)


def _slot(sub: Subscription | None, settings: ChatSettings | None) -> str | None:
    """The slot a chat is indexed under: None unless it is subscribed, active and not paused."""
    if sub is None or not sub.active or (settings is not None and settings.paused):
        return None
    return (settings or ChatSettings()).slot


def chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    return (ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK))


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

    async def save_subscription(self, sub: Subscription) -> None:
        """Its settings are read for its slot, not written again (a change made meanwhile stays)."""
        await self._write(sub.chat_id, sub=sub, settings=await self.get_settings(sub.chat_id), write_settings=False)

    async def delete_subscription(self, chat_id: int) -> bool:
        """Remove a chat's subscription (its settings are kept, for when it subscribes again)."""
        existed = await self.get_subscription(chat_id) is not None
        await self._write(chat_id, sub=None, settings=None, delete=True)
        return existed

    async def move_subscription(self, old_chat_id: int, new_chat_id: int, now: datetime) -> Subscription | None:
        """A group became a supergroup: the subscription and the settings follow it to its new id (a
        subscription the supergroup has of its own already stays as it is)."""
        sub = await self.get_subscription(old_chat_id)
        if sub is None:
            return None
        moved = await self.get_subscription(new_chat_id) or replace(
            sub, chat_id=new_chat_id, kind=ChatKind.SUPERGROUP, updated=now
        )
        settings = await self.get_settings(new_chat_id) or await self.get_settings(old_chat_id)
        await self._write(new_chat_id, sub=moved, settings=settings)
        await self._write(old_chat_id, sub=None, settings=None, delete=True)
        return moved

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

    async def save_settings(self, chat_id: int, settings: ChatSettings) -> None:
        await self._write(chat_id, sub=await self.get_subscription(chat_id), settings=settings, keep_sub=True)

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
        """Write many subscriptions (and settings) at once, indexed: for imports and benchmarks."""
        for start in range(0, len(chats), CHUNK):
            part = chats[start : start + CHUNK]
            olds: list[str | None] = await call(
                self._redis.hmget(self._key("slot_of"), [str(s.chat_id) for s, _ in part])
            )
            async with self._redis.pipeline(transaction=False) as pipe:
                for (sub, settings), old in zip(part, olds, strict=True):
                    self._queue(pipe, sub.chat_id, sub, settings, old, keep_sub=False, delete=False)
                await call(pipe.execute())

    async def _write(
        self,
        chat_id: int,
        *,
        sub: Subscription | None,
        settings: ChatSettings | None,
        delete: bool = False,
        keep_sub: bool = False,
        write_settings: bool = True,
    ) -> None:
        """Write a chat's subscription (or delete it) and/or settings, and move it in the index.
        Optimistic: the chat's slot is read under WATCH, so two writes at once (a double tap) cannot
        leave it in two slots; the loser reads again."""
        for _ in range(WRITE_ATTEMPTS):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self._key("slot_of"))
                    found = await pipe.hget(self._key("slot_of"), str(chat_id))
                    old = found.decode() if isinstance(found, bytes) else found
                    pipe.multi()  # type: ignore[no-untyped-call]
                    self._queue(pipe, chat_id, sub, settings, old, keep_sub=keep_sub, delete=delete,
                                write_settings=write_settings)  # fmt: skip
                    await pipe.execute()
                    return
                except WatchError:
                    continue
                except RedisError as exc:
                    raise StoreError(f"Redis failed: {exc}") from exc
        raise StoreError(f"could not save chat {chat_id}: written by others {WRITE_ATTEMPTS} times meanwhile")

    def _queue(
        self,
        pipe: Any,
        chat_id: int,
        sub: Subscription | None,
        settings: ChatSettings | None,
        old: str | None,
        *,
        keep_sub: bool,
        delete: bool,
        write_settings: bool = True,
    ) -> None:
        member = str(chat_id)
        if delete:
            pipe.hdel(self._key("subs"), member)
        elif sub is not None and not keep_sub:
            pipe.hset(self._key("subs"), member, _SUBSCRIPTION.dump_json(sub))
        if settings is not None and write_settings:
            pipe.hset(self._key("chat_settings"), member, _SETTINGS.dump_json(settings))
        new = None if delete else _slot(sub, settings)
        if new == old:
            return
        if old is not None:
            pipe.srem(self._key("slot", old), member)
        if new is None:
            pipe.hdel(self._key("slot_of"), member)
        else:
            pipe.sadd(self._key("slot", new), member)
            pipe.hset(self._key("slot_of"), member, new)
