"""Questions benchmark: 100 questions about 10 papers from 50 people, through the question service
(bot/ask.py) with the fake Claude, the fake arXiv serving each paper's LaTeXML HTML (about 55,000
characters of body, made of the real abstracts in tests/data/hf-weeks) and the real Redis.

    python -m bench.ask [--people 50] [--papers 10] [--claude-ms 50]

Each person asks a first question about one paper and then a follow-up (a reply to the answer): 50
firsts, 50 follow-ups, in a shuffled order (a follow-up after its first). The papers' full texts are
fetched and parsed once before the questions (reported apart: a paper's body is fetched once a month).

- Bot time per answer, excluding Claude: the service's wall time for the question minus the time the
  request spent inside the fake Claude's handler (FakeClaude.handler_seconds). What remains is ours:
  Redis (limits, budget, history, the full text from Redis), the prompt, the SDK's request and parsing,
  the gate over the whole full text. Bar: p99 <= 30 ms. The fake Claude answers after `--claude-ms`
  (50 ms; the real one takes seconds): the gate's index of a paper's names and numbers, built once per
  paper (about 12 ms for 60,000 characters), is made in a thread while Claude answers. With
  `--claude-ms 0` nothing can overlap and the first question about each paper pays it.
- Claude input tokens billed, from the usage the fake reports as the real API does (the paper is a
  cached system block): billed = input_tokens + 1.25 x cache_creation_input_tokens + 0.1 x
  cache_read_input_tokens (the 5-minute cache's write and read prices relative to input). Bar: a
  follow-up <= 0.2 x the first question about a paper (the one that writes the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from bench.common import World, percentile
from bot.app import open_app
from bot.ask import Answered
from bot.config import Settings
from bot.models import Paper, Usage
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.papers_text import latexml_paper

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "hf-weeks"
SECTIONS = ["Introduction", "Related Work", "Method", "Experimental Setup", "Results", "Analysis", "Limitations",
            "Conclusion"]  # fmt: skip
PARAGRAPHS = 4  # per section, each of about 1,700 characters (two real abstracts)


def real_papers() -> list[tuple[str, str]]:
    papers = []
    for path in sorted(REAL.glob("*.json")):
        for paper in json.loads(path.read_text())["papers"]:
            papers.append((" ".join(paper["title"].split()), " ".join(paper["abstract"].split())))
    return papers


def make_papers(count: int) -> list[tuple[Paper, str, list[str]]]:
    """Papers (a real title and abstract each), their HTML, and one question per section (a word of it)."""
    pool = real_papers()
    out = []
    for n in range(count):
        title, abstract = pool[n * 37 % len(pool)]
        body, questions = [], []
        for s, name in enumerate(SECTIONS):
            paragraphs = [
                pool[(n * 101 + s * 13 + k * 2) % len(pool)][1] + " " + pool[(n * 101 + s * 13 + k * 2 + 1) % len(pool)][1]
                for k in range(PARAGRAPHS)
            ]  # fmt: skip
            body.append((name, paragraphs))
            words = [w.strip(".,;:()") for w in paragraphs[0].split() if len(w.strip(".,;:()")) > 6]
            questions.append(f"{name}에서 {words[0]}와 {words[1]}는 어떤 역할을 하나요?")
        paper = Paper(f"2611.{n:05d}", title, abstract, 10)
        out.append((paper, latexml_paper(title, abstract, body), questions))
    return out


def billed(u: Usage) -> float:
    return u.input_tokens + 1.25 * u.cache_creation_input_tokens + 0.1 * u.cache_read_input_tokens


def spent(before: Usage, after: Usage) -> Usage:
    a, b = asdict(after), asdict(before)
    return Usage(**{k: a[k] - b[k] for k in a})


async def run(people: int, papers: int, claude_ms: float) -> None:
    arxiv = FakeArxiv()
    await arxiv.start()
    try:
        async with World() as world:
            settings = Settings(
                anthropic_api_key=SecretStr("bench-key"), anthropic_base_url=world.claude.url, hf_base_url=world.hf.url,
                arxiv_base_url=arxiv.url, arxiv_html_base_url=arxiv.url, redis_url=world.redis_url,
                redis_prefix=world.prefix, http_port=0, log_level="WARNING", hf_max_attempts=1,
            )  # fmt: skip
            world.claude.delay = claude_ms / 1000
            made = make_papers(papers + 1)  # the last one warms up the SDK and the connections
            for paper, html, _ in made:
                arxiv.html[paper.id] = html
            async with open_app(settings) as app:
                assert app.questions is not None and app.fulltext is not None
                questions, fulltext = app.questions, app.fulltext
                fetch_ms, sizes = [], []
                for paper, _, _ in made:
                    started = time.perf_counter()
                    full = await fulltext.get(paper)
                    fetch_ms.append((time.perf_counter() - started) * 1000)
                    sizes.append(full.chars)
                    assert full.source == "arxiv_html", full.source
                warm_paper, _, warm_questions = made[-1]
                await questions.ask(warm_paper, 1, warm_questions[0])

                rng = random.Random(50)
                plan: list[tuple[int, int, str]] = []  # (person, paper, kind)
                firsts = [(p, p % papers) for p in range(people)]
                rng.shuffle(firsts)
                pending: list[tuple[int, int]] = []
                for person, paper_n in firsts:
                    plan.append((person, paper_n, "first"))
                    pending.append((person, paper_n))
                    if rng.random() < 0.5 and pending:
                        plan.append((*pending.pop(rng.randrange(len(pending))), "follow-up"))
                plan += [(person, paper_n, "follow-up") for person, paper_n in pending]

                times: dict[str, list[float]] = {
                    "first about the paper": [],
                    "first, paper cached": [],
                    "follow-up": [],
                }
                tokens: dict[str, list[float]] = {
                    "first about the paper": [],
                    "first, paper cached": [],
                    "follow-up": [],
                }
                asked_about: set[int] = set()
                day = datetime.now(UTC).astimezone(settings.tz).date()
                for person, paper_n, kind in plan:
                    paper, _, qs = made[paper_n]
                    question = qs[(person + (kind == "follow-up")) % len(qs)]
                    before, in_claude = await app.store.on_demand_usage(day=day), len(world.claude.handler_seconds)
                    started = time.perf_counter()
                    outcome = await questions.ask(paper, 1000 + person, question)
                    wall = time.perf_counter() - started
                    claude = sum(world.claude.handler_seconds[in_claude:])
                    assert isinstance(outcome, Answered), outcome
                    used = spent(before, await app.store.on_demand_usage(day=day))
                    if kind == "first":
                        kind = "first, paper cached" if paper_n in asked_about else "first about the paper"
                    asked_about.add(paper_n)
                    times[kind].append((wall - claude) * 1000)
                    tokens[kind].append(billed(used))
                report(times, tokens, fetch_ms, sizes, world.claude.calls, claude_ms)
    finally:
        await arxiv.stop()


def report(
    times: dict[str, list[float]],
    tokens: dict[str, list[float]],
    fetch_ms: list[float],
    sizes: list[int],
    calls: int,
    claude_ms: float,
) -> None:
    every = [t for values in times.values() for t in values]
    p99 = percentile(every, 0.99)
    print(f"Full texts: {len(sizes)} papers of {min(sizes):,}–{max(sizes):,} characters (arXiv LaTeXML HTML), "
          f"fetched and parsed once each: median {statistics.median(fetch_ms):.0f} ms, max {max(fetch_ms):.0f} ms\n")  # fmt: skip
    print(f"The fake Claude answers after {claude_ms:.0f} ms (excluded with the rest of its time).\n")
    print("| bot time per answer, Claude excluded | answers | p50 | p99 | max | bar | result |")
    print("|---|---|---|---|---|---|---|")
    for kind, values in times.items():
        print(f"| {kind} | {len(values)} | {statistics.median(values):.1f} ms | {percentile(values, 0.99):.1f} ms | "
              f"{max(values):.1f} ms | | |")  # fmt: skip
    print(f"| **all** | {len(every)} | {statistics.median(every):.1f} ms | {p99:.1f} ms | "
          f"{max(every):.1f} ms | p99 ≤ 30 ms | {'pass' if p99 <= 30 else 'FAIL'} |\n")  # fmt: skip
    cold = statistics.mean(tokens["first about the paper"])
    print("| question | count | billed input tokens (mean) | vs the first about the paper |")
    print("|---|---|---|---|")
    for kind, values in tokens.items():
        print(f"| {kind} | {len(values)} | {statistics.mean(values):,.0f} | {statistics.mean(values) / cold:.2f}× |")
    ratio = statistics.mean(tokens["follow-up"]) / cold
    print(f"\nbilled = input + 1.25 × cache_creation + 0.1 × cache_read; follow-up / first about the paper = "
          f"{ratio:.3f} (bar ≤ 0.2: {'pass' if ratio <= 0.2 else 'FAIL'}); Claude calls: {calls}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--papers", type=int, default=10)
    parser.add_argument("--claude-ms", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(run(args.people, args.papers, args.claude_ms))


if __name__ == "__main__":
    main()
