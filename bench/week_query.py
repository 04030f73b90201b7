"""/week latency benchmark: N users send `/week 2025-W38` at once on a warm cache.

    python -m bench.week_query [--users 300] [--rounds 3]

The bot is the real `hfweekly run` in its own process, long polling the fake Telegram; the fakes
(Telegram, Hugging Face, Claude) run in this process, on the other core, and time each update from
the moment getUpdates hands it to the bot to the moment the bot's reply arrives. The cache is warmed
by one /week first; the table counts the Claude and Hugging Face calls made during the burst (must
be 0). "CPU per reply" is the CPU time the bot's process and this process (the fakes) used during
the round, divided by the number of users: the two run on the two cores, so whichever is larger
bounds how fast a burst can be answered. Bar (issue 3): p99 <= 100 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid

from redis.asyncio import Redis

from bench.common import bot_env, drop_keys
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF, week_items
from tests.fakes.telegram import FakeTelegram

WEEK = "2025-W38"
FIRST_USER = 10_000


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def fake_floor(tg: FakeTelegram, users: int) -> tuple[float, float]:
    """How long the fake Telegram takes, with no bot, to accept `users` copies of the bot's last reply
    sent at once by the leanest client (bench/lean_client.py): the floor under the burst's p99."""
    sample = next(s for s in reversed(tg.sent) if s.method == "sendMessage")
    template = {k: v for k, v in sample.params.items() if k != "chat_id"}
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.lean_client", tg.url.rsplit(":", 1)[1], tg.token, str(FIRST_USER), str(users),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(json.dumps(template, ensure_ascii=False).encode() + b"\n")
    await client.stdin.drain()
    await client.stdout.readline()  # ready: requests encoded, connections open
    before, cpu, go = len(tg.sent), time.process_time(), time.monotonic()
    client.stdin.write(b"go\n")
    await client.stdin.drain()
    await tg.wait_for(lambda: len(tg.sent) >= before + users, within=60)
    took = (max(s.at for s in tg.sent[before:]) - go) * 1000
    cpu_per_request = (time.process_time() - cpu) / users * 1000
    if await client.wait():
        raise RuntimeError("the lean client's requests were refused")
    return took, cpu_per_request


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(users: int, rounds: int, spread_over: float, profile: str | None, floor: bool) -> None:
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    prefix = f"hfwbench-{uuid.uuid4().hex[:8]}"
    tg, hf, claude = FakeTelegram(), FakeHF(), FakeClaude()
    hf.weeks[WEEK] = week_items(WEEK)
    for server in (tg, hf, claude):
        await server.start()
    for user in range(FIRST_USER, FIRST_USER + users):
        tg.add_chat(user, "private")
    env = bot_env(tg, hf, claude, redis_url, prefix)
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    proc = await asyncio.create_subprocess_exec(sys.executable, *profiler, "-m", "bot", "run", env=env)
    rows = []
    floors: list[tuple[float, float]] = []
    try:
        await tg.wait_for(lambda: bool(tg.commands), within=30)  # the bot is up
        tg.message(FIRST_USER, FIRST_USER, f"/week {WEEK}")  # warm the cache: one cold build
        await tg.wait_for(lambda: any(s.method == "editMessageText" for s in tg.to(FIRST_USER)), within=60)
        await tg.settle()
        for spread in [0.0] * rounds + [spread_over] * (1 if spread_over else 0):
            calls, hf_calls, before = claude.calls, len(hf.requests), len(tg.sent)
            ids: dict[int, int] = {}
            cpu = (process_cpu(proc.pid), time.process_time())
            start_at = time.monotonic()
            for n, user in enumerate(range(FIRST_USER, FIRST_USER + users)):
                if spread:  # steady arrivals instead of one burst
                    await asyncio.sleep(max(0.0, start_at + n * spread / users - time.monotonic()))
                ids[tg.message(user, user, f"/week {WEEK}")] = user
            await tg.wait_for(lambda b=before: len({s.chat_id for s in tg.sent[b:]}) >= users, within=120)
            cpu = ((process_cpu(proc.pid) - cpu[0]) / users * 1000, (time.process_time() - cpu[1]) / users * 1000)
            first_reply: dict[int, float] = {}
            for sent in tg.sent[before:]:
                first_reply.setdefault(sent.chat_id, sent.at)
            latencies = [(first_reply[user] - tg.delivered_at[uid]) * 1000 for uid, user in ids.items()]
            waits = [(tg.delivered_at[uid] - tg.delivered_at[min(ids)]) * 1000 for uid in ids]
            label = f"spread over {spread:.0f} s" if spread else "burst"
            rows.append((label, latencies, max(waits), claude.calls - calls, len(hf.requests) - hf_calls, cpu))
            await tg.settle()
        proc.terminate()
        await proc.wait()
        floors = [await fake_floor(tg, users) for _ in range(rounds)] if floor else []
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        client = Redis.from_url(redis_url, decode_responses=True)
        await drop_keys(client, prefix)
        await client.aclose()
        for server in (tg, hf, claude):
            await server.stop()

    if floors:
        print("The fake Telegram alone (no bot): bench/lean_client.py sends the same reply to the same chats, all")
        print("at once over 8 connections; time from the go to the last request reaching the fake, and its CPU:")
        print()
        print("| round | last of the replies reached the fake after | fake CPU per request |")
        print("|---|---|---|")
        for i, (took, fake_cpu) in enumerate(floors, start=1):
            print(f"| {i} | {took:.1f} ms | {fake_cpu:.2f} ms |")
        print()
    print(f"/week {WEEK} from {users} users at once, warm cache, {rounds} rounds; bot = `hfweekly run` subprocess")
    print()
    print(
        "| round | arrivals | p50 | p99 | max | last update handed out after | CPU per reply: bot / fakes "
        "| Claude calls | HF calls | bar p99 ≤ 100 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for i, (label, lat, spread, calls, hf_calls, (bot_cpu, fake_cpu)) in enumerate(rows, start=1):
        p99 = percentile(lat, 0.99)
        print(
            f"| {i} | {label} | {statistics.median(lat):.1f} ms | {p99:.1f} ms | {max(lat):.1f} ms | {spread:.1f} ms | "
            f"{bot_cpu:.2f} / {fake_cpu:.2f} ms | {calls} | {hf_calls} | "
            f"{'pass' if p99 <= 100 and calls == hf_calls == 0 else 'FAIL'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spread", type=float, default=3.0, help="a last round with arrivals spread over S seconds")
    parser.add_argument("--profile", metavar="FILE", help="run the bot under cProfile, writing FILE")
    parser.add_argument("--no-floor", action="store_true", help="skip the rounds of the fake Telegram alone")
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(run(args.users, args.rounds, args.spread, args.profile, not args.no_floor))
    print(f"\n(total {time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
