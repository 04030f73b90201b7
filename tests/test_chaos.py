"""Kills and stalls across processes (issue 17): two `hfweekly run` replicas and a cron loop of `hfweekly
publish --due` share one Redis and the fake Telegram; every few seconds one of them is SIGKILLed and
started again, or the one publishing is stalled past its lock's life, while the week goes out
(bench/chaos.py; `python -m bench.chaos` runs it at 10,000 chats)."""

from __future__ import annotations

from bench.chaos import chaos
from bench.common import World


async def test_kills_across_processes_lose_nothing_and_repeat_only_sends_in_flight() -> None:
    async with World() as world:
        result = await chaos(world, chats=3000, kill_every=2.0, within=300)
    print(result.table())
    assert result.short == []  # every chat has every part of its view (and chats of a view the same)
    assert result.views == 2
    # A part arrives twice only when a kill or a stall caught it in flight, once more per such event at
    # most (a stalled run that wakes up after another took the week over sends nothing more).
    assert result.unexplained == []
    assert result.duplicates <= result.in_flight
    assert result.kills >= 1 and result.stalls >= 1  # the week really went out under fire
