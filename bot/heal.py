"""Healing: papers that went out pending are translated again, every 15 minutes for 72 hours. Each
translation saved queues every message that shows the paper for the editor (bot/editor.py), which
brings them up to date; once a sent week has none pending, admins are told. Weeks are given up after
HEAL_WINDOW.

A week sent before messages were indexed (its heal record says so) is indexed once from its ledger."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from bot import texts
from bot.deliver import Clock, Notify
from bot.digest import DigestService
from bot.editor import Editor
from bot.layout import papers_of
from bot.refs import Kind, Ref, member
from bot.store import DeliveryStore, EditStore
from bot.week import IsoWeek

log = logging.getLogger(__name__)

HEAL_WINDOW = timedelta(hours=72)
GAVE_UP_FOR = timedelta(days=14)


class Healer:
    def __init__(
        self,
        digests: DigestService,
        editor: Editor | None,
        *,
        delivery: DeliveryStore,
        edits: EditStore,
        clock: Clock,
        notify: Notify,
    ) -> None:
        self._delivery = delivery  # heal records, the week's layouts and ledger
        self._edits = edits  # the paper→message index and the editor's queue
        self._digests = digests
        self._editor = editor
        self._clock = clock
        self._notify = notify

    async def heal(self) -> None:
        """Retranslate the pending papers of sent weeks; the editor edits what shows them."""
        now = self._clock()
        for week, record in (await self._delivery.heal_records()).items():
            if now - record.since > HEAL_WINDOW:
                await self._delivery.first_time(f"heal-gave-up:{week}", ttl=GAVE_UP_FOR)  # later runs of the week
                await self._delivery.save_heal(week, None)  # (other slots) do not start healing it again
                await self._notify(texts.HEAL_GIVEN_UP.format(week=week))
                continue
            if not record.indexed:
                indexed = await self._index_sent(week)
                record = replace(record, indexed=True)
                await self._delivery.save_heal(week, record)
                log.info("Heal %s: indexed %d messages sent before there was an index", week, indexed)
            layouts = await self._delivery.layouts(week)
            sent = {rank for layout in layouts.values() for part in layout.plan.parts for rank in part}
            # The translator retries what is pending, of the papers any chat was sent; each translation
            # saved queues the messages that show the paper for the editor.
            digest = await self._digests.build(week, top_n=max(sent, default=0) or None)
            if digest.pending:
                await self._delivery.save_heal(
                    week, replace(record, attempts=record.attempts + 1, papers=len(digest.pending))
                )
                log.info("Heal %s: %d papers still pending", week, len(digest.pending))
                continue
            # Every message of the week is looked at once more (a translation saved while a run was
            # laying out its messages may have queued nothing); the editor edits only what differs.
            await self._edits.refs_changed(await self._week_refs(week))
            await self._delivery.save_heal(week, None)
            log.info("Healed %s: every paper translated; the editor updates its messages", week)
            await self._notify(texts.HEALED.format(week=week))
        if self._editor is not None:
            self._editor.wake()

    async def _week_refs(self, week: IsoWeek) -> list[str]:
        """Every ref of the week's messages: the broadcast's layouts and those of /week answers."""
        refs = []
        for kind, kept in (
            (Kind.DIGEST, await self._delivery.layouts(week)),
            (Kind.REPLY, await self._edits.reply_layouts(week)),
        ):
            refs += [
                str(Ref(kind, str(week), key, i)) for key, layout in kept.items() for i in range(len(layout.plan.parts))
            ]
        return refs

    async def _index_sent(self, week: IsoWeek) -> int:
        """Index the messages of a week sent before the paper→message index existed: its ledger read
        once (the only HGETALL of a ledger left), every ref queued for one pass of the editor."""
        layouts = await self._delivery.layouts(week)
        deepest = max((rank for kept in layouts.values() for part in kept.plan.parts for rank in part), default=0)
        digest = await self._digests.current(week, top_n=max(1, deepest))
        if digest is None:
            return 0
        refs = {
            Ref(Kind.DIGEST, str(week), key, i): papers
            for key, layout in layouts.items()
            for i, papers in enumerate(papers_of(digest, layout.plan))
        }
        messages = [
            (Ref(Kind.DIGEST, str(week), entry.layout, i), member(entry.chat_id, message_id))
            for entry in (await self._delivery.ledger(week)).values()
            if entry.layout in layouts
            for i, message_id in entry.delivered()
        ]
        await self._edits.index_refs(refs)
        await self._edits.index_sent(messages)
        await self._edits.refs_changed(str(ref) for ref in refs)
        return len(messages)
