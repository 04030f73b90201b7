"""Who does what among the processes sharing this Redis: the leader's lease, and updates claimed by id."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from redis.exceptions import LockError, RedisError

from bot.errors import StoreError
from bot.store.base import StoreBase, call, log

UPDATE_CLAIM_TTL = timedelta(days=1)  # Telegram keeps an update for 24 hours: it is never delivered later


class Lease:
    """A lease on one key, held by one process at a time: redis-py's Lock (SET NX PX to take it, a Lua
    compare-and-extend to renew it, a Lua compare-and-delete to release it) with a token of this
    process's own that also names it (`<random> <holder>`), so that anyone can read who holds it.
    Every Redis failure is a StoreError."""

    def __init__(self, lock: Any, holder: str) -> None:
        self._lock = lock
        self._token = f"{uuid.uuid4().hex} {holder}"

    async def take(self) -> bool:
        """True if it was free and is ours now; False if any process holds it (this one too: `renew`)."""
        taken: bool = await call(self._lock.acquire(blocking=False, token=self._token))
        return taken

    async def renew(self) -> bool:
        """Restart the lease's time if it is still ours: True. If it expired and nobody took it, it is
        taken again: True. False when another process holds it."""
        try:
            await self._lock.reacquire()
            return True
        except LockError:  # not ours (another's, or expired), or never taken by this Lock
            return await self.take()
        except RedisError as exc:
            raise StoreError(f"Redis failed: {exc}") from exc

    async def release(self) -> None:
        """Give it up if it is still ours (another's lease is never touched)."""
        try:
            await self._lock.release()
        except LockError:
            pass  # not ours any more: nothing to give up
        except RedisError as exc:  # it expires on its own
            log.info("Could not release the lease %s: %s", self._lock.name, exc)

    async def holder(self) -> str | None:
        """Who holds it now (as named when taken), None when nobody does."""
        value: str | None = await call(self._lock.redis.get(self._lock.name))
        return value.split(" ", 1)[-1] if value else None


class LeaseStore(StoreBase):
    def lease(self, name: str, holder: str, *, ttl: timedelta) -> Lease:
        """The lease `lease:<name>`, for `holder` (e.g. host:pid); it lapses `ttl` after its last renewal."""
        lock = self._redis.lock(self._key("lease", name), timeout=ttl.total_seconds(), thread_local=False)
        return Lease(lock, holder)

    async def claim_update(self, bot_id: int, update_id: int) -> bool:
        """True the first time any process claims this update of this bot (for a day), False after."""
        key = self._key("update", str(bot_id), str(update_id))
        return bool(await call(self._redis.set(key, "1", nx=True, ex=UPDATE_CLAIM_TTL)))
