"""Search benchmark: an archive of 104 weeks x 50 papers (synthesised from the real weeks in
tests/data/hf-weeks: their titles and abstracts, each used under new ids), half of them
translated (in the cache), in a Redis server of the benchmark's own.

    python -m bench.search [--weeks 104] [--queries 300]

Bot time, measured in-process around the work each answer does (the Telegram round trip excluded):
- /search: the archive index's lookup, the cached translations of the hits (one MGET), the message;
- inline query: the same search as articles, or a week's digest and its papers;
- /paper of a cached paper: the lookup (archive), the cached translation, the messages.
Bars: /search and inline p99 <= 50 ms with no Redis scan per query and no Claude call; a cached
/paper <= 20 ms. The index's first build (one scan of the snapshots) is reported apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from redis.asyncio import Redis

from bench.common import World, own_redis, percentile
from bot.app import open_app
from bot.config import Settings
from bot.handlers.inline import search_results, week_results
from bot.handlers.paper import search_answer
from bot.models import Paper, Snapshot, Translation
from bot.render import render_paper_parts
from bot.search import search_with_titles
from bot.week import IsoWeek

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "hf-weeks"  # of ../shared/data
QUERIES = ["agents", "diffusion", "reinforcement learning", "language model", "video generation", "reasoning",
           "benchmark", "multimodal", "확산", "에이전트", "방법", "robot", "RL", "scaling", "zzqx nothing"]  # fmt: skip


def real_papers() -> list[tuple[str, str]]:
    papers = []
    for path in sorted(REAL.glob("*.json")):
        for paper in json.loads(path.read_text())["papers"]:
            papers.append((" ".join(paper["title"].split()), " ".join(paper["abstract"].split())))
    return papers


def archive(weeks: int) -> list[Snapshot]:
    rng = random.Random(104)
    pool = real_papers()
    snapshots, week = [], IsoWeek(2024, 1)
    for w in range(weeks):
        papers = []
        for i in range(50):
            title, abstract = pool[(w * 50 + i) % len(pool)]
            papers.append(Paper(f"{2400 + w:04d}.{i:05d}", title, abstract, rng.randint(1, 400)))
        papers.sort(key=lambda p: -p.upvotes)
        snapshots.append(Snapshot(week, tuple(papers), datetime(2026, 1, 1, tzinfo=UTC), f"https://hf.co/{week}"))
        week = week.next()
    return snapshots


async def timed(runs: int, work: Callable[[int], Awaitable[object]]) -> list[float]:
    times = []
    for i in range(runs):
        started = time.perf_counter()
        await work(i)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def scans(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_scan", {}).get("calls", 0))


async def run(weeks: int, queries: int) -> None:
    server, url = await own_redis()
    try:
        async with World(redis_url=url) as world:
            settings = Settings(
                anthropic_api_key=SecretStr("bench-key"), anthropic_base_url=world.claude.url,
                hf_base_url=world.hf.url, redis_url=url, redis_prefix=world.prefix, http_port=0, log_level="WARNING",
            )  # fmt: skip
            async with open_app(settings) as app:
                assert app.translator is not None and app.archive is not None and app.ondemand is not None
                index, translator = app.archive, app.translator
                snapshots = archive(weeks)
                for snapshot in snapshots:
                    await app.store.save_snapshot(snapshot, final=True)
                    for paper in snapshot.papers[::2]:  # half of them translated
                        korean = Translation(
                            f"한국어 제목: {paper.title}", "이 논문은 새로운 방법을 제안한다.", "초록 번역."
                        )
                        await app.store.save_translation(app.translator.key(paper), korean)
                started = time.perf_counter()
                await app.archive.ensure()
                build_ms = (time.perf_counter() - started) * 1000
                redis = Redis.from_url(url, decode_responses=True)
                scans_before, claude_before = await scans(redis), world.claude.calls

                async def search(i: int) -> object:
                    query = QUERIES[i % len(QUERIES)]
                    hits = await search_with_titles(index, translator, query)
                    return search_answer(query, hits, [], "hfweekly_bot")

                async def inline(i: int) -> object:
                    if i % 3 == 0:  # a week: its digest (cached) and its papers
                        snapshot = snapshots[i % len(snapshots)]
                        return await week_results(app.digests, snapshot.week, "hfweekly_bot")
                    return await search_results(app.archive, app.translator, QUERIES[i % len(QUERIES)], "hfweekly_bot")

                async def one_paper(i: int) -> object:
                    snapshot = snapshots[i % len(snapshots)]
                    assert app.ondemand is not None
                    found = await app.ondemand.find(snapshot.papers[0].id)
                    assert not isinstance(found, str)
                    return render_paper_parts(found.paper, await app.ondemand.cached(found.paper), found.week)

                rows = [("/search", await timed(queries, search), 50.0),
                        ("inline query", await timed(queries, inline), 50.0),
                        ("/paper, cached", await timed(queries, one_paper), 20.0)]  # fmt: skip
                scanned, asked = await scans(redis) - scans_before, world.claude.calls - claude_before
                await redis.aclose()
                print(f"Archive: {weeks} weeks x 50 papers = {app.archive.size:,} papers (half translated); "
                      f"the index's first build: {build_ms:.0f} ms\n")  # fmt: skip
                print("| answer | queries | p50 | p99 | max | Redis scans | Claude calls | bar | result |")
                print("|---|---|---|---|---|---|---|---|---|")
                for name, times, bar in rows:
                    ok = percentile(times, 0.99) <= bar and scanned == 0 and asked == 0
                    print(
                        f"| {name} | {len(times)} | {statistics.median(times):.2f} ms | {percentile(times, 0.99):.2f} ms | "
                        f"{max(times):.2f} ms | {scanned} | {asked} | p99 ≤ {bar:.0f} ms | {'pass' if ok else 'FAIL'} |"
                    )
    finally:
        server.terminate()
        await server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.weeks, args.queries))


if __name__ == "__main__":
    main()
