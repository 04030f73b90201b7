"""Kills across processes (issue 17): two `hfweekly run` replicas and a cron loop of `hfweekly publish
--due` share one Redis and the fake Telegram; one of them is SIGKILLed every few seconds and started
again while the week goes out (bench/chaos.py; `python -m bench.chaos` runs it at 10,000 chats)."""

from __future__ import annotations

from bench.chaos import chaos
from bench.common import World


async def test_kills_across_processes_lose_nothing_and_repeat_only_sends_in_flight() -> None:
    async with World() as world:
        result = await chaos(world, chats=3000, kill_every=3.0, within=300)
    print(result.table())
    assert result.kills >= 3  # the week really went out under fire
    assert result.short == []  # every chat has every part of its view (and chats of a view the same)
    assert result.views == 2
    # A part arrives twice only when a kill caught it in flight, and once more per such kill at most.
    assert result.unexplained == []
    assert result.duplicates <= result.in_flight
