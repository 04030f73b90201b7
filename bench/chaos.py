"""Kills and stalls across processes: two `hfweekly run` processes (webhook replicas) and a cron-style
loop of `hfweekly publish --due` share one Redis and the fake Telegram while a week goes out; every
few seconds one of them is killed with SIGKILL and started again, and every other time the process
publishing is stalled instead (SIGSTOP for longer than the publish lock lasts, then SIGCONT: a VM
paused, a long GC), so that another process takes the week over while it sleeps and it wakes up in
the middle of its chats. At the end every chat must have every part of its view; a part may arrive
twice only if a kill or a stall caught it in flight.

    python -m bench.chaos [--chats 10000] [--kill-every 3]

tests/test_chaos.py runs the same scenario, smaller.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import socket
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.common import World
from bot.ledger import IN_DOUBT, LedgerEntry, State
from bot.models import ChatKind, ChatSettings, Form, Subscription
from bot.week import IsoWeek
from tests.fakes.hf import long_papers

LOCK_SECONDS = 3
STALL_PAST_LOCK = 4  # seconds a stall lasts beyond the lock: another process takes the week meanwhile


@dataclass
class Chaos:
    chats: int
    kills: int = 0
    stalls: int = 0  # the publishing process stopped past its lock's life, then continued
    seconds: float = 0.0
    messages: int = 0
    short: list[int] = field(default_factory=list)  # chats missing a part of their view
    duplicates: int = 0  # sends of a part beyond its first
    in_flight: int = 0  # parts in doubt in the ledger right after a kill, summed over the kills
    unexplained: list[tuple[int, int]] = field(default_factory=list)  # (chat, copies) of a part sent again
    # more often than kills caught it in flight
    worst: int = 0  # the most copies of one part in one chat
    views: int = 0
    rates: list[float] = field(default_factory=list)  # messages a second between two kills

    def table(self) -> str:
        between = f"{statistics.median(self.rates):.0f}" if self.rates else "n/a"
        rows = [
            ("chats", f"{self.chats:,}"),
            ("messages sent (incl. repeats)", f"{self.messages:,}"),
            ("kills (SIGKILL)", str(self.kills)),
            ("stalls of the publisher (SIGSTOP > lock)", str(self.stalls)),
            ("chats short of a part", str(len(self.short))),
            ("parts in flight at the kills", str(self.in_flight)),
            ("duplicate sends (bar: ≤ parts in flight at kills)", str(self.duplicates)),
            ("repeats not caught in flight by a kill", str(len(self.unexplained))),
            ("most copies of one part", str(self.worst)),
            ("median rate between kills (msg/s)", between),
            ("wall time (s)", f"{self.seconds:.1f}"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _subscribe(world: World, chats: range) -> None:
    """Private chats; every third one reads the `full` form (several messages each)."""
    now = datetime.now(UTC)
    rows = []
    for i, chat in enumerate(chats):
        world.tg.add_chat(chat, "private")
        settings = ChatSettings(form=Form.FULL) if i % 3 == 0 else None
        rows.append((Subscription(chat, ChatKind.PRIVATE, "", True, now, now), settings))
    await world.store.save_chats(rows)


class Processes:
    """The two replicas and the cron loop, each restartable."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self.replicas: dict[int, asyncio.subprocess.Process] = {}
        self.cron: asyncio.subprocess.Process | None = None
        self._ports = {0: _port(), 1: _port()}
        self._looping: asyncio.Task[None] | None = None
        self.manual: list[asyncio.subprocess.Process] = []  # `hfweekly publish WEEK` started during stalls

    async def start_replica(self, n: int) -> None:
        env = self._env | {"HFWEEKLY_WEBHOOK_PORT": str(self._ports[n])}
        url = f"http://127.0.0.1:{self._ports[n]}/telegram"
        self.replicas[n] = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--webhook-url", url, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    def start_cron(self) -> None:
        async def loop() -> None:
            while True:
                self.cron = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "publish", "--due", env=self._env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                await self.cron.wait()
                await asyncio.sleep(1.0)

        self._looping = asyncio.create_task(loop())

    async def kill(self, target: int) -> None:
        """SIGKILL replica 0, replica 1 or (2) the cron's publish now running, and start it again."""
        proc = self.replicas[target] if target < 2 else self.cron
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        if target < 2:
            await self.start_replica(target)

    def pids(self) -> set[int]:
        procs = [*self.replicas.values(), self.cron, *self.manual]
        return {p.pid for p in procs if p is not None and p.returncode is None}

    async def stall(self, pid: int, seconds: float, week: IsoWeek) -> None:
        """Stop a process for `seconds` (longer than its lock lasts), then let it go on. Meanwhile an
        operator's `hfweekly publish WEEK` (waiting for the lock) takes the week over when the lock
        lapses, so the stalled process surely wakes up to find another sending its chats."""
        os.kill(pid, signal.SIGSTOP)
        takeover = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "publish", str(week), env=self._env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        self.manual.append(takeover)
        try:
            await asyncio.sleep(seconds)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    async def stop(self) -> None:
        if self._looping is not None:
            self._looping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._looping
        procs = [*self.replicas.values(), *([self.cron] if self.cron else []), *self.manual]
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def chaos(world: World, *, chats: int, kill_every: float, within: float = 600.0) -> Chaos:
    """Send the week owed now to `chats` chats while killing a process every `kill_every` seconds."""
    week = IsoWeek.last_completed(datetime.now(UTC), ZoneInfo("Asia/Seoul"))
    world.hf.weeks[str(week)] = long_papers()
    world.tg.validate_html = False  # the fake's own checks are tested elsewhere; here it must keep up
    ids = range(60_000, 60_000 + chats)
    await _subscribe(world, ids)
    env = world.env() | {
        "HFWEEKLY_SCHEDULE": "* * * * *",
        "HFWEEKLY_CATCH_UP": "1h",
        "HFWEEKLY_TOP_N": "20",
        "HFWEEKLY_SEND_RATE": "0",
        "HFWEEKLY_GROUP_RATE_PER_MINUTE": "0",
        "HFWEEKLY_PUBLISH_LOCK_SECONDS": str(LOCK_SECONDS),
    }
    build = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "digest", str(week), env=env, stdout=asyncio.subprocess.DEVNULL
    )
    assert await build.wait() == 0, "the digest could not be built"
    result, procs = Chaos(chats), Processes(env)
    started = time.monotonic()
    for n in (0, 1):
        await procs.start_replica(n)
    procs.start_cron()
    targets, last_kill, last_count = itertools.cycle((0, 1, 2)), time.monotonic(), 0
    doubts: Counter[tuple[int, int]] = Counter()  # (chat, part): kills that caught it in flight
    try:
        while not await world.store.done_report(week):
            if time.monotonic() - started > within:
                raise AssertionError(f"the week did not go out within {within} s")
            await asyncio.sleep(0.2)
            if time.monotonic() - last_kill >= kill_every and len(world.tg.sent) > last_count:
                count = len(world.tg.sent)
                result.rates.append((count - last_count) / (time.monotonic() - last_kill))
                publisher = await _publisher(world, week)
                if (result.kills + result.stalls) % 2 and publisher in procs.pids():
                    stalled = asyncio.create_task(procs.stall(publisher, LOCK_SECONDS + STALL_PAST_LOCK, week))
                    result.stalls += 1
                else:
                    stalled = None
                    await procs.kill(next(targets))
                    result.kills += 1
                # The sends in flight of the process killed or stalled: in doubt now and still a moment
                # later (a running process's parts are in doubt for the few ms their request takes).
                now_in_doubt = set(_in_doubt(await world.store.ledger(week)))
                await asyncio.sleep(0.5)
                doubts.update(now_in_doubt & set(_in_doubt(await world.store.ledger(week))))
                if stalled is not None:
                    await stalled
                last_kill, last_count = time.monotonic(), len(world.tg.sent)
        result.seconds = time.monotonic() - started
    finally:
        await procs.stop()
    await world.tg.idle()
    _count(result, world, await world.store.ledger(week), ids, doubts)
    return result


async def _publisher(world: World, week: IsoWeek) -> int | None:
    """The pid of the process holding the week's publish lock (its token ends with host:pid)."""
    token = await world.redis.get(f"{world.prefix}:lock:publish:{week}")
    pid = str(token or "").rpartition(":")[2]
    return int(pid) if pid.isdigit() else None


def _in_doubt(ledger: dict[int, LedgerEntry]) -> list[tuple[int, int]]:
    return [(chat, i) for chat, entry in ledger.items() for i, part in enumerate(entry.parts) if part == IN_DOUBT]


def _count(
    result: Chaos, world: World, ledger: dict[int, LedgerEntry], ids: range, doubts: Counter[tuple[int, int]]
) -> None:
    per_chat: dict[int, Counter[str]] = defaultdict(Counter)
    for sent in world.tg.sent:
        if sent.chat_id in ids:
            per_chat[sent.chat_id][sent.text] += 1
    result.messages = sum(sum(c.values()) for c in per_chat.values())
    by_view: dict[str, set[frozenset[str]]] = defaultdict(set)
    for chat in ids:
        entry = ledger.get(chat)
        got = per_chat[chat]
        if entry is None or entry.state is not State.SENT or len(got) != len(entry.parts):
            result.short.append(chat)
            continue
        by_view[entry.layout].add(frozenset(got))
        result.duplicates += sum(n - 1 for n in got.values())
        result.worst = max(result.worst, *got.values())
        for part, message in enumerate(entry.parts):
            copies = got[_text(world, chat, message)]
            if copies > 1 + doubts[(chat, part)]:
                result.unexplained.append((chat, copies))
    result.in_flight = sum(doubts.values())
    result.views = len(by_view)
    result.short += [0] * sum(len(texts) - 1 for texts in by_view.values())  # a view's chats got different texts


def _text(world: World, chat: int, message: int | None) -> str:
    sent = world.tg.messages.get((chat, message or 0))
    return sent.text if sent is not None else ""


async def main_async(chats: int, kill_every: float) -> None:
    async with World() as world:
        result = await chaos(world, chats=chats, kill_every=kill_every)
    print(result.table())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--kill-every", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(main_async(args.chats, args.kill_every))


if __name__ == "__main__":
    main()
