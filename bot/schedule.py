"""The weekly slots, catch-up after downtime, held runs, retries and healing.

APScheduler runs `tick` once a minute (and at the default slot's cron time). `tick` asks Redis what is
owed rather than trusting the in-memory job store: APScheduler's jobs do not survive a restart and
its misfire grace is one second. Each slot (bot/slots.py) that came within `catch_up` and has not
delivered its week yet is published, for its chats only (so a slot missed while the bot was down is
made up at start, once); a week the source gate held delays every slot until it passes (retried every
30 minutes for 12 hours); chats owed a retry are retried when due; pending translations are healed
every 15 minutes. A tick with nothing due reads one small set per week in the window.

With several `hfweekly run` processes, only the leader ticks (bot/leader.py): every process keeps its
APScheduler jobs, and a tick first confirms the lease (renewing it) and returns at once in a process
that does not lead; a process that comes to lead ticks at once (the catch-up).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import texts
from bot.alerts import Alerts
from bot.config import Settings
from bot.deliver import Broadcaster, Clock, Notify
from bot.editor import Editor
from bot.errors import AlreadyPublishing, DigestError, EmptyWeekError, HeldError, SourceError, StoreError
from bot.heal import Healer
from bot.leader import Leadership
from bot.ledger import Report
from bot.models import Hold
from bot.slots import due, next_run
from bot.store import DeliveryStore
from bot.week import IsoWeek

log = logging.getLogger(__name__)

HOLD_RETRY = timedelta(minutes=30)
HOLD_FOR = timedelta(hours=12)
HEAL_EVERY = timedelta(minutes=15)


class WeeklyScheduler:
    def __init__(
        self,
        broadcaster: Broadcaster,
        healer: Healer,
        delivery: DeliveryStore,
        settings: Settings,
        *,
        clock: Clock,
        notify: Notify,
        alerts: Alerts,
        editor: Editor | None = None,
        leader: Leadership | None = None,
    ) -> None:
        self._leader = leader  # None: this process ticks alone (`hfweekly publish --due`, tests)
        self._alerts = alerts
        self._editor = editor
        self._broadcaster = broadcaster
        self._healer = healer
        self._delivery = delivery
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._last_heal: datetime | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._ticking: asyncio.Task[None] | None = None

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=self._settings.tz)
        trigger = CronTrigger.from_crontab(self._settings.schedule, timezone=self._settings.tz)
        # max_instances=1 and coalesce: a tick still running is not started twice.
        scheduler.add_job(self.tick, trigger, id="weekly", max_instances=1, coalesce=True, misfire_grace_time=None)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(minutes=1),
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self._settings.tz),  # at start: the catch-up
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("Weekly publish scheduled '%s' (%s); next: %s", self._settings.schedule, self._settings.timezone,
                 next_run(self._settings, self._clock()))  # fmt: skip

    async def on_leadership(self, leading: bool) -> None:
        """A Leadership listener: a process that comes to lead ticks now (what is owed may have waited)."""
        if leading and self._scheduler is not None and self._scheduler.running:
            self._scheduler.modify_job("tick", next_run_time=datetime.now(self._settings.tz))

    async def stop(self, grace: float = 8.0) -> None:
        """No new jobs; a publish under way finishes its sends in flight (at most `grace` seconds)."""
        self._broadcaster.stop()
        if self._scheduler is not None:
            self._scheduler.pause()  # no new runs; shutting down now would cancel the running one
        if self._ticking is not None and not self._ticking.done():
            log.info("Waiting for the sends in flight to finish")
            done, _ = await asyncio.wait({self._ticking}, timeout=grace)
            if not done:  # e.g. waiting out a long flood wait: it must not outlive the clients it uses
                log.warning("Sends still in flight after %.0f s are cancelled: the next run resends them", grace)
                self._ticking.cancel()
                await asyncio.wait({self._ticking}, timeout=1.0)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def tick(self) -> None:
        """Do whatever is owed now: the slots that came, held runs, retries, healing. One tick at a time
        (the weekly cron and the minutely tick may fire together): a tick that finds another running
        leaves the work to it. Only the leader ticks: the lease is confirmed first. A tick never raises: it
        logs, tells the admins (throttled) and the next tick tries again."""
        if self._ticking is not None:
            return
        self._ticking = asyncio.current_task()
        try:
            if self._leader is not None and not await self._leader.confirm():
                return
            now = self._clock()
            await self.run_due(now)
            if self._broadcaster.stopping or (self._leader is not None and not self._leader.leading):
                return
            if self._last_heal is None or now - self._last_heal >= HEAL_EVERY:
                self._last_heal = now
                await self._healer.heal()
            if self._editor is not None:  # a job of its own: edits never delay a tick
                self._editor.wake()
        except Exception as exc:  # Redis or a source down (or a bug): the next tick tries again
            if isinstance(exc, StoreError | DigestError):
                log.warning("Scheduled work failed, will retry: %s", exc)
            else:
                log.exception("Scheduled work failed unexpectedly, will retry")
            kind = type(exc).__name__
            await self._alerts.alert(f"job:{kind}", texts.JOB_FAILED.format(kind=kind, detail=exc))
        finally:
            self._ticking = None

    async def run_due(self, now: datetime) -> list[Report]:
        """Publish what is due now (`hfweekly publish --due` runs this once): the slots that came and
        have not delivered their week, then the weeks whose owed chats are due. The runs' reports."""
        reports = []
        for week, slots in due(self._settings, now).items():
            done = await self._delivery.done_slots(week)
            pending = [slot for slot in slots if slot not in done]
            if pending and not self._broadcaster.stopping:
                reports += await self._slots(week, pending, now)
        for week in await self._delivery.due_retries(now):
            if self._broadcaster.stopping:
                break
            if await self._delivery.get_hold(week) is not None:
                continue  # held: the slots' held retries (every 30 minutes, fetching again) come first
            log.info("Retrying the chats of %s that are owed it", week)
            reports += await self._publish(week, now, slots=())
        return reports

    async def _slots(self, week: IsoWeek, slots: list[str], now: datetime) -> list[Report]:
        hold = await self._delivery.get_hold(week)
        if hold is not None:  # a held week delays every slot until it passes the source gate
            if hold.gave_up or now - hold.last < HOLD_RETRY:
                return []
            if now - hold.since >= HOLD_FOR:
                await self._delivery.save_hold(week, replace(hold, gave_up=True))
                await self._notify(texts.HOLD_GIVEN_UP.format(week=week, reason=hold.reason))
                return []
        log.info("Slots %s of %s are due", ", ".join(slots), week)
        return await self._publish(week, now, slots=slots, refresh=hold is not None)

    async def _publish(
        self, week: IsoWeek, now: datetime, *, slots: Sequence[str], refresh: bool = False
    ) -> list[Report]:
        try:
            return [await self._broadcaster.publish(week, refresh=refresh, slots=slots)]
        except AlreadyPublishing as exc:
            log.info("%s", exc)
        except (HeldError, EmptyWeekError, SourceError) as exc:  # held: retried every 30 minutes
            hold = await self._delivery.get_hold(week)
            if hold is None:
                await self._notify(texts.HELD.format(week=week, reason=exc))
                hold = Hold(since=now, last=now, reason=str(exc))
            await self._delivery.save_hold(week, replace(hold, last=now, reason=str(exc)))
            log.warning("Publish of %s held: %s", week, exc)
        # A run that passed the source gate ended the hold itself (Broadcaster._finish).
        return []
