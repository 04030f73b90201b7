"""What /status shows, gathered from the store's facets in one place (bot/handlers/admin.py renders it):
Claude's usage, the translation cache, the gate's week, readers' open reports, the editor's figures,
the last publish (and its paid broadcasts), the week owed a retry or held, the weeks healing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Settings
from bot.ledger import Report
from bot.models import Hold, ReaderReport, Usage
from bot.slots import owed_week
from bot.store import DeliveryStore, EditStats, EditStore, GateCounts, LimitStore, PaperStore, TrustStore
from bot.week import IsoWeek


@dataclass(frozen=True)
class Figures:
    week: IsoWeek  # this week: what its usage and the gate's counts are of
    usage: Usage  # Claude's tokens spent this week
    translations: int  # in the cache
    on_demand: Usage  # of this week's usage, translations someone asked for (/paper)
    gate: GateCounts
    reports: list[ReaderReport]  # open, newest first
    edits: EditStats
    last: Report | None  # the latest publish run that did anything
    paid: int  # messages of the last run's week sent as paid broadcasts (0 without a last run)
    owed: IsoWeek | None  # the week the default slot's latest time delivers, within the catch-up window
    retry: datetime | None  # when that week's chats owed a retry are due
    hold: Hold | None  # that week's publish, held by the source gate
    healing: list[IsoWeek]  # sent weeks whose pending papers are being translated again
    hf_calls: int = 0  # requests to Hugging Face in the current 5-minute window, by every process


class Status:
    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime],
        *,
        papers: PaperStore,
        trust: TrustStore,
        edits: EditStore,
        delivery: DeliveryStore,
        limits: LimitStore,
    ) -> None:
        self._settings, self._clock = settings, clock
        self._papers, self._trust, self._edits = papers, trust, edits
        self._delivery, self._limits = delivery, limits

    async def figures(self) -> Figures:
        now, tz = self._clock(), self._settings.tz
        week = IsoWeek.current(now, tz)
        usage = await self._papers.get_usage(week, spent=True)
        translations = await self._papers.count_translations()
        on_demand = await self._papers.on_demand_usage(week=week)
        gate = await self._trust.gate_counts(week)
        reports = await self._trust.open_reports()
        edits = await self._edits.edit_stats()
        last = await self._delivery.last_report()
        paid = await self._limits.paid_count(last.week) if last else 0
        owed = owed_week(self._settings, now)
        retry = await self._delivery.retry_at(owed) if owed is not None else None
        hold = await self._delivery.get_hold(owed) if owed is not None else None
        healing = sorted(await self._delivery.heal_records())
        hf_calls = await self._limits.hf_calls(now.timestamp())
        return Figures(
            week, usage, translations, on_demand, gate, reports, edits, last, paid, owed, retry, hold, healing,
            hf_calls,
        )  # fmt: skip
