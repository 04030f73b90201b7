"""A local aiohttp server on 127.0.0.1 and an ephemeral port: the base of every fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web


class FakeServer:
    def __init__(self) -> None:
        self.app = web.Application()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        """Serve on `port` (0: any free one; the port of an earlier start: the same server back up)."""
        # shutdown_timeout: a long poll still open at the end of a test is cut, not waited for.
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def describe(self) -> str:
        """What a timed-out wait shows of this fake's state."""
        return ""

    async def wait_for(self, predicate: Callable[[], object], within: float = 10.0) -> None:
        """Wait for the event `predicate` says happened (checked every 10 ms), at most `within` seconds."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within} s; {self.describe()}")
            await asyncio.sleep(0.01)
