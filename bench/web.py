"""Web benchmark: an archive of 104 weeks x 50 papers (synthesised from the real weeks in tests/data,
as bench/search.py does; every paper translated, in the cache) in a Redis server of the benchmark's
own; `hfweekly web` serving it in a process of its own; a load generator in another process (so the
server's event loop is measured alone) sending 200 requests a second for 10 s, open loop, over week,
paper and feed pages, a third of them revalidations (If-None-Match with the ETag it was given).

    python -m bench.web [--weeks 104] [--rate 200] [--seconds 10]

Reported: p50/p99/max latency as the load generator saw it (connect, request, whole body), 304s,
errors, the server's RSS after the load, and the first renders (the warm-up pass over every path,
each page rendered once). Then `hfweekly site build` of every week, timed. Bars: p99 <= 20 ms; the
static build <= 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from typing import Any

import aiohttp
from pydantic import SecretStr

from bench.common import World, own_redis, percentile
from bench.search import archive
from bot.app import open_app
from bot.config import Settings
from bot.models import Translation

SUMMARY = "이 논문은 새로운 방법을 제안하고 여러 실험으로 그 효과를 보인다. 결과는 기존 방법보다 우수하다."


# --- the load generator (a process of its own) -------------------------------------------------------


async def load(base: str, paths: list[str], rate: float, seconds: float, revalidate: float) -> dict[str, Any]:
    """Open loop: request i starts at i / rate s whatever the earlier ones do."""
    rng = random.Random(19)
    etags: dict[str, str] = {}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = time.perf_counter()
        for path in paths:  # every page rendered once (the first renders), ETags learned
            async with session.get(base + path) as response:
                await response.read()
                etags[path] = response.headers.get("ETag", "")
        warm_seconds = time.perf_counter() - warm

        async def one(path: str, headers: dict[str, str]) -> None:
            started = time.perf_counter()
            async with session.get(base + path, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            path = rng.choice(paths)
            headers = {"If-None-Match": etags[path]} if rng.random() < revalidate and etags.get(path) else {}
            tasks.append(asyncio.create_task(one(path, headers)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {"latencies": latencies, "statuses": statuses, "elapsed": elapsed, "warm_seconds": warm_seconds}


# --- the benchmark -------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def seed(world: World, url: str, weeks: int) -> list[str]:
    """The archive in Redis, every paper translated; the paths the load asks for."""
    settings = Settings(
        anthropic_api_key=SecretStr("bench-key"), anthropic_base_url=world.claude.url, hf_base_url=world.hf.url,
        redis_url=url, redis_prefix=world.prefix, http_port=0, log_level="WARNING",
    )  # fmt: skip
    paths = ["/", "/weeks", "/feed.atom", "/feed.json", "/papers.atom", "/topics/diffusion.atom"]
    async with open_app(settings) as app:
        assert app.translator is not None
        for snapshot in archive(weeks):
            await app.store.save_snapshot(snapshot, final=True)
            await asyncio.gather(*(
                app.store.save_translation(app.translator.key(paper), Translation(
                    f"한국어 제목: {paper.title}", SUMMARY, f"초록 번역. {paper.abstract[:200]}"
                ))
                for paper in snapshot.papers
            ))  # fmt: skip
            paths.append(f"/weeks/{snapshot.week}")
            paths += [f"/papers/{paper.id}" for paper in snapshot.papers[:10]]
    return paths


async def run(weeks: int, rate: float, seconds: float) -> None:
    server, url = await own_redis()
    try:
        async with World(redis_url=url) as world:
            paths = await seed(world, url, weeks)
            env = {**world.env(), "HFWEEKLY_WEB_HOST": "127.0.0.1"}
            port = 18000 + random.Random().randrange(1000)
            web = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "web", "--port", str(port), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                assert web.stdout is not None
                line = await asyncio.wait_for(web.stdout.readline(), 60)
                assert b"serving" in line, line
                rss_idle = rss_mb(web.pid)
                gen = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bench.web", "--load", f"http://127.0.0.1:{port}", "--rate", str(rate),
                    "--seconds", str(seconds), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                out, _ = await gen.communicate(json.dumps(paths).encode())
                result = json.loads(out)
                rss_loaded = rss_mb(web.pid)
            finally:
                web.terminate()
                await web.wait()
            with tempfile.TemporaryDirectory() as folder:
                started = time.perf_counter()
                build = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "site", "build", folder, env=env, stdout=asyncio.subprocess.PIPE
                )
                said, _ = await build.communicate()
                build_seconds = time.perf_counter() - started
        report(weeks, len(paths), result, rss_idle, rss_loaded, said.decode().strip(), build_seconds)
    finally:
        server.terminate()
        await server.wait()


def report(weeks: int, paths: int, result: dict[str, Any], idle: float, loaded: float, said: str, build: float) -> None:
    times: list[float] = result["latencies"]
    statuses = {int(k): v for k, v in result["statuses"].items()}
    p99 = percentile(times, 0.99)
    errors = sum(v for k, v in statuses.items() if k not in (200, 304))
    print(f"Archive: {weeks} weeks x 50 papers (top 10 of each shown); {paths} paths (weeks, papers, feeds)")
    print(f"Warm-up (every path rendered once): {result['warm_seconds']:.2f} s\n")
    print("| what | value | bar | result |")
    print("|---|---|---|---|")
    print(f"| requests | {len(times)} in {result['elapsed']:.1f} s ({len(times) / result['elapsed']:.0f}/s) | | |")
    print(f"| p50 | {statistics.median(times):.2f} ms | | |")
    print(f"| p99 | {p99:.2f} ms | ≤ 20 ms | {'pass' if p99 <= 20 else 'FAIL'} |")
    print(f"| max | {max(times):.2f} ms | | |")
    print(f"| 200 / 304 / errors | {statuses.get(200, 0)} / {statuses.get(304, 0)} / {errors} | 304s > 0, no errors | "
          f"{'pass' if statuses.get(304, 0) and not errors else 'FAIL'} |")  # fmt: skip
    print(f"| server RSS | {idle:.0f} MB idle, {loaded:.0f} MB after the load | | |")
    print(f"| `hfweekly site build` ({weeks} weeks) | {build:.1f} s wall ({said}) | ≤ 10 s | "
          f"{'pass' if build <= 10 else 'FAIL'} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--revalidate", type=float, default=1 / 3)
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)  # the load generator's process
    args = parser.parse_args()
    if args.load:
        paths = json.loads(sys.stdin.read())
        result = asyncio.run(load(args.load, paths, args.rate, args.seconds, args.revalidate))
        sys.stdout.write(json.dumps(result))
        return
    asyncio.run(run(args.weeks, args.rate, args.seconds))


if __name__ == "__main__":
    main()
