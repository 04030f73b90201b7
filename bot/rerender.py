"""What a sent message should read now: a ref (bot/refs.py) rendered from Redis, never from Hugging Face
or Claude. A week's layouts and digest are read once per editor pass, and read again for a ref whose
change is newer than that reading."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.digest import DigestService
from bot.errors import WeekError
from bot.faithful import unsummarisable
from bot.keyboards import paper_buttons, week_nav
from bot.layout import render_plan
from bot.refs import Kind, Ref
from bot.render import render_paper_parts
from bot.store import DeliveryStore, EditStore
from bot.translate import Translator
from bot.week import IsoWeek

Rendered = tuple[str, dict[str, Any] | None]  # a message's text and its buttons


class Renders:
    """Each ref's text as it should read now. `seen`: the newest change number known when a week was
    read; a ref whose change is newer is read again (a change that came during the pass)."""

    def __init__(
        self, digests: DigestService, translator: Translator | None, username: str | None, tz: ZoneInfo,
        now: datetime, *, delivery: DeliveryStore, edits: EditStore,
    ) -> None:  # fmt: skip
        self._delivery, self._edits = delivery, edits  # the broadcast's layouts; those of /week answers
        self._digests, self._translator = digests, translator
        self._username, self._tz, self._now = username, tz, now
        self._weeks: dict[tuple[Kind, str, str], tuple[int, list[str] | None]] = {}
        self.seen = 0

    async def get(self, ref: Ref, seq: int) -> Rendered | None:
        if ref.kind is Kind.PAPER:
            return await self._paper(ref)
        key = (ref.kind, ref.subject, ref.layout)
        cached = self._weeks.get(key)
        if cached is None or cached[0] < seq:
            cached = self._weeks[key] = (max(self.seen, seq), await self._digest(ref))
        texts = cached[1]
        if texts is None or ref.part >= len(texts):
            return None
        markup = None
        if ref.kind is Kind.REPLY and ref.part == len(texts) - 1:  # the /week answer's ◀ ▶
            week = IsoWeek.parse(ref.subject, now=self._now, tz=self._tz)
            markup = week_nav(week, IsoWeek.last_completed(self._now, self._tz)).to_dict()
        return texts[ref.part], markup

    async def _digest(self, ref: Ref) -> list[str] | None:
        try:
            week = IsoWeek.parse(ref.subject, now=self._now, tz=self._tz)
        except WeekError:
            return None
        kept = await (self._delivery.layouts(week) if ref.kind is Kind.DIGEST else self._edits.reply_layouts(week))
        layout = kept.get(ref.layout)
        if layout is None:
            return None
        depth = max((rank for part in layout.plan.parts for rank in part), default=0)
        digest = await self._digests.current(week, top_n=max(1, depth))
        if digest is None:
            return None
        return render_plan(digest, layout.view, layout.plan, bot_username=self._username)

    async def _paper(self, ref: Ref) -> Rendered | None:
        known = await self._digests.known_paper(ref.subject)
        if known is None or self._translator is None:
            return None
        paper, week = known
        translation = (await self._translator.cached([paper])).get(paper.id)
        texts = render_paper_parts(paper, translation, week, tz=self._tz, parts=ref.parts)
        buttons = paper_buttons(paper.id, reportable=translation is not None, briefable=not unsummarisable(paper))
        markup = buttons.to_dict() if ref.last and buttons is not None else None
        return texts[ref.part], markup
