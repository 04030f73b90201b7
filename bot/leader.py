"""One leader among the `hfweekly run` processes sharing a Redis (webhook replicas, a standby): only it
runs the scheduler's ticks, and in polling mode only it polls Telegram for updates.

A lease in Redis names the leader (bot/store/leases.py: a token of this process's own, taken with SET NX
PX, renewed by a compare-and-extend, released by a compare-and-delete). The leader renews it every
third of its time; every other process tries to take it as often, so it takes over within about
`ttl` when the leader dies without releasing it, and within a third of `ttl` when the leader stops
(it releases the lease). Before each tick the leader renews it once more (`confirm`); whenever Redis
answers that another process holds the lease, this one stops leading at once: its listeners hear
False (polling stops) and no tick runs.

While Redis cannot be reached the lease can be neither confirmed nor taken: no tick runs (they need
Redis anyway), and the leader keeps polling, so that people are told to try again later rather than
met with silence. No other process can take the lease meanwhile, unless it alone still reaches Redis;
then both poll until Redis answers this one again, and the claim of every update by its id
(bot/updates.py) keeps each one handled once wherever a claim can be written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.errors import StoreError
from bot.store import Lease
from bot.store.base import process_name as process_name

log = logging.getLogger(__name__)

Listener = Callable[[bool], Awaitable[None]]


class Leadership:
    def __init__(self, lease: Lease | None, name: str, *, ttl: timedelta) -> None:
        """`lease` None: the store is this process's own (no REDIS_URL), so it leads alone."""
        self.name = name
        self._lease = lease
        self._every = ttl.total_seconds() / 3
        self._leading = False
        self._listeners: list[Listener] = []
        self._change = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self._unreachable = False

    @property
    def leading(self) -> bool:
        return self._leading

    def listen(self, listener: Listener) -> None:
        """`listener(True)` when this process comes to lead, `listener(False)` when it stops, in the
        order they were added; one failing at the start gives the lease up (tried again later)."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Try to lead now, then keep trying (or renewing) every third of the lease's time."""
        await self._attempt()
        self._task = asyncio.create_task(self._keep(), name="leadership")

    async def stop(self) -> None:
        """Lead no more (listeners hear False); the lease stays until `release` or until it lapses."""
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._become(False)

    async def release(self) -> None:
        """Stop leading and give the lease up, so that a standby takes over at its next try."""
        await self.stop()
        if self._lease is not None:
            await self._lease.release()

    async def confirm(self) -> bool:
        """Renew the lease (before a tick): True while this process leads. When another process holds
        it, this one stops leading at once; while Redis is unreachable, False (no tick now)."""
        if not self._leading or self._stopped:
            return False
        if self._lease is None:
            return True
        try:
            ours = await self._lease.renew()
        except StoreError as exc:
            log.warning("Cannot confirm the leader's lease (%s): no tick now", exc)
            return False
        if not ours:
            await self._become(False)
        return ours

    async def leader(self) -> str | None:
        """The process that leads (host:pid), as the lease says; None if nobody does or Redis is away."""
        if self._lease is None:
            return self.name if self._leading else None
        try:
            return await self._lease.holder()
        except StoreError:
            return None

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self._attempt()

    async def _attempt(self) -> None:
        if self._lease is None:
            await self._become(True)
            return
        try:
            ours = await (self._lease.renew() if self._leading else self._lease.take())
        except StoreError as exc:
            if not self._unreachable:
                self._unreachable = True
                log.warning("Cannot reach the leader's lease (%s); trying again every %.0f s", exc, self._every)
            return
        if self._unreachable:
            self._unreachable = False
            log.info("The leader's lease can be reached again")
        await self._become(ours)

    async def _become(self, leading: bool) -> None:
        async with self._change:
            if leading == self._leading or (leading and self._stopped):
                return
            self._leading = leading  # first: a tick woken by a listener already sees it
            if not leading:
                level = logging.INFO if self._stopped else logging.WARNING
                log.log(level, "This process (%s) no longer leads: no ticks, no polling here", self.name)
                await self._tell(False)
                return
            log.info("This process (%s) leads: it runs the scheduler's ticks (and polls, in polling mode)", self.name)
            for listener in self._listeners:
                try:
                    await listener(True)
                except Exception as exc:  # e.g. Telegram unreachable when polling starts: another try later
                    log.warning("Could not start leading (%s: %s); the lease is given up, to be taken again",
                                type(exc).__name__, exc)  # fmt: skip
                    log.debug("Why", exc_info=exc)
                    self._leading = False
                    await self._tell(False)
                    if self._lease is not None:
                        await self._lease.release()
                    return

    async def _tell(self, leading: bool) -> None:
        for listener in self._listeners:
            try:
                await listener(leading)
            except Exception:  # one listener failing to stop must not keep the others running
                log.exception("A listener failed when this process stopped leading")
