"""The slot index follows every change of a subscription or of settings; settings outlive both."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import TypeAdapter
from redis.asyncio import Redis

from bot.app import App
from bot.models import ChatKind, ChatSettings, Form, Subscription
from bot.store import Store
from bot.subscriptions import ChatInfo
from tests.conftest import ALICE, BOB, GROUP

FRIDAY = ChatSettings(day=4, hour=18)


async def slots_of(store: Store, *slots: str) -> dict[str, list[int]]:
    return {slot: await store.slot_chats(slot) for slot in slots}


async def test_the_index_follows_subscriptions_and_settings(app: App) -> None:
    subs, store = app.subscriptions, app.store
    await subs.subscribe(ChatInfo(ALICE, ChatKind.PRIVATE, "a"))
    await subs.change_settings(BOB, FRIDAY)  # settings before subscribing: kept, not indexed
    assert await slots_of(store, "default", "4-18") == {"default": [ALICE], "4-18": []}
    await subs.subscribe(ChatInfo(BOB, ChatKind.PRIVATE, "b"))
    assert await slots_of(store, "default", "4-18") == {"default": [ALICE], "4-18": [BOB]}
    await subs.change_settings(ALICE, FRIDAY)
    assert await slots_of(store, "default", "4-18") == {"default": [], "4-18": [ALICE, BOB]}
    await subs.change_settings(ALICE, ChatSettings(day=4, hour=18, paused=True))
    assert await store.slot_chats("4-18") == [BOB]
    await subs.deactivate(BOB, "blocked")
    assert await store.slot_chats("4-18") == [] and await store.get_settings(BOB) == FRIDAY  # kept
    await subs.reactivate(BOB)
    assert await store.slot_chats("4-18") == [BOB]
    await subs.unsubscribe(BOB)
    assert await store.slot_chats("4-18") == [] and await store.get_settings(BOB) == FRIDAY
    await subs.subscribe(ChatInfo(BOB, ChatKind.PRIVATE, "b"))  # comes back with its settings
    assert await store.slot_chats("4-18") == [BOB]


async def test_a_group_that_became_a_supergroup_keeps_its_settings_and_slot(app: App) -> None:
    await app.subscriptions.subscribe(ChatInfo(GROUP, ChatKind.GROUP, "g"))
    await app.subscriptions.change_settings(GROUP, FRIDAY)
    await app.subscriptions.migrate(GROUP, -100777)
    assert await app.store.slot_chats("4-18") == [-100777]
    assert await app.store.get_settings(-100777) == FRIDAY
    assert await app.store.slot_of(GROUP) is None


async def test_subscriptions_made_before_slots_are_indexed_once(app: App, redis: Redis, prefix: str) -> None:
    now = datetime(2025, 9, 1, tzinfo=UTC)
    sub = Subscription(4242, ChatKind.PRIVATE, "old", True, now, now)
    raw = TypeAdapter(Subscription).dump_json(sub)
    await redis.hset(f"{prefix}:subs", "4242", raw)  # as a version before the index wrote it: no slot

    await redis.delete(f"{prefix}:slots:indexed")
    await app.store.ensure_slot_index()
    assert 4242 in await app.store.slot_chats("default")


async def test_settings_written_at_once_leave_the_chat_in_one_slot(app: App) -> None:
    import asyncio

    await app.subscriptions.subscribe(ChatInfo(ALICE, ChatKind.PRIVATE, "a"))
    await asyncio.gather(*(app.store.save_settings(ALICE, ChatSettings(day=d, hour=9)) for d in range(7)))
    slots = [s for s in (f"{d}-09" for d in range(7)) if ALICE in await app.store.slot_chats(s)]
    assert slots == [(await app.store.get_settings(ALICE) or ChatSettings()).slot]


async def test_a_burst_of_chats_subscribing_and_choosing_settings_all_succeed(app: App) -> None:
    """200 chats subscribe and choose their settings at the same moment (each chat's two writes racing
    too): every write succeeds (none waits on another chat's), and the index holds each subscribed,
    active, unpaused chat in exactly the slot of its settings."""
    import asyncio

    chats = range(5000, 5200)

    def chosen(chat_id: int) -> ChatSettings:
        return ChatSettings(day=chat_id % 7, hour=chat_id % 24, paused=chat_id % 5 == 0)

    await asyncio.gather(
        *(app.subscriptions.subscribe(ChatInfo(c, ChatKind.PRIVATE, f"chat {c}")) for c in chats),
        *(app.subscriptions.change_settings(c, chosen(c)) for c in chats),
    )
    await asyncio.gather(*(app.subscriptions.deactivate(c, "blocked") for c in chats if c % 3 == 0))

    subs = await app.store.subscriptions_of(list(chats))
    settings = await app.store.settings_of(list(chats))
    assert sorted(subs) == list(chats) and settings == {c: chosen(c) for c in chats}
    members = {slot: set(await app.store.slot_chats(slot)) for slot in {s.slot for s in settings.values()}}
    for c in chats:
        expected = None if c % 3 == 0 or chosen(c).paused else chosen(c).slot
        assert [slot for slot, found in members.items() if c in found] == ([expected] if expected else []), c
        assert await app.store.slot_of(c) == expected, c


async def test_changes_of_one_chat_at_once_all_stay(app: App) -> None:
    """Changes of different settings and of the subscription, made at the same moment, are each applied
    to what the others left: none is lost, and the index follows the last."""
    import asyncio
    from dataclasses import replace

    changes = [
        lambda s: replace(s, count=5),
        lambda s: replace(s, form=Form.FULL),
        lambda s: replace(s, english=False),
        lambda s: replace(s, topics=("RL",)),
        lambda s: replace(s, day=4, hour=18),
    ]
    await asyncio.gather(
        app.subscriptions.subscribe(ChatInfo(ALICE, ChatKind.PRIVATE, "a")),
        *(app.subscriptions.change_settings(ALICE, change) for change in changes),
    )
    assert await app.store.get_settings(ALICE) == ChatSettings(5, 4, 18, Form.FULL, False, ("RL",))
    assert await slots_of(app.store, "default", "4-18") == {"default": [], "4-18": [ALICE]}
    await asyncio.gather(
        app.subscriptions.change_settings(ALICE, lambda s: replace(s, paused=True)),
        app.subscriptions.deactivate(ALICE, "blocked"),
        app.subscriptions.change_settings(ALICE, lambda s: replace(s, count=20)),
    )
    sub = await app.store.get_subscription(ALICE)
    assert (
        sub is not None
        and not sub.active
        and await app.store.get_settings(ALICE) == ChatSettings(20, 4, 18, Form.FULL, False, ("RL",), paused=True)
    )
    assert await app.store.slot_of(ALICE) is None and await app.store.slot_chats("4-18") == []
