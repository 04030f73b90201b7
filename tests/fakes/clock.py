"""A clock tests drive: the send limiter's `clock` and `sleep`, with every sleep recorded."""

from __future__ import annotations

import asyncio


class FakeClock:
    """Epoch seconds that move only when something sleeps: a sleep moves the clock on at once, so a
    test of a 30 s wait takes no time, and `slept` says what was waited for (in order)."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)  # a sleep yields to the loop, as a real one does

    @property
    def waited(self) -> float:
        return sum(self.slept)
