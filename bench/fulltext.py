"""Papers' full texts from arXiv's HTML: fetch and parse 50 papers, what it costs, what Redis keeps.

    python -m bench.fulltext [--papers 50]

- Pages: LaTeXML-shaped HTML of 100–400 KB each (sizes spread evenly; seeded): an abstract, numbered
  sections with subsections, paragraphs with inline math as LaTeXML writes it (MathML with alttext and
  a TeX annotation), citations, footnotes, figures (an image and a caption) and tables (a tabular of
  numbers and a caption), a bibliography of 40–80 entries, a long and a short appendix, navigation and
  footer; its prose is the sentences of the 419 real abstracts (tests/data). Served by the fake arXiv (tests/fakes/arxiv.py) over real HTTP, with its redirect to the
  versioned address; Hugging Face (the fake) has no markdown of them, so arXiv's HTML is what is parsed.
- Each paper: `FullTextSource.get` with a fresh cache (fetch, parse, cap, compress, SET), one at a time.
  CPU: process time (time.process_time) around it, the fake server's share included (it runs in this
  process); and the parse alone (`arxiv_page` on the same body). Bar: ≤ 50 ms per paper (p50 and max of
  the whole get).
- Peak RSS: ru_maxrss of this process at the end (Python, the fakes, the 50 pages and the parses).
  Bar: ≤ 150 MB.
- Redis bytes per kept paper: MEMORY USAGE of each `fulltext:<id>` key (STRLEN beside it), at REDIS_URL
  (default redis://127.0.0.1:6379/15) under a throwaway prefix, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
import resource
import statistics
import time
import uuid
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from bench.common import drop_keys, percentile
from bot.models import Paper
from bot.sources.fulltext import FullTextSource
from bot.sources.fulltext_parse import arxiv_page
from bot.store import Store
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "hf-weeks"


def _sentences() -> list[str]:
    """Real prose: the sentences of the 419 real abstracts (tests/data/hf-weeks), so that the text
    compresses as a paper's does (a few words repeated would flatter Redis's figures)."""
    found = []
    for week in sorted(DATA.glob("*.json")):
        for paper in json.loads(week.read_text())["papers"]:
            found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(paper["abstract"].split())) if s.strip()]
    return found


SENTENCES = _sentences()
TEX = (r"\mathcal{L}_{\theta}", r"x_{t+1}=f(x_{t})", r"\alpha\in(0,1)", r"p(y\mid x)", r"\sum_{i=1}^{N}r_{i}")
ALPHA = r"\alpha"
SECTIONS = ("Introduction", "Related Work", "Method", "Experiments", "Results", "Analysis", "Limitations",
            "Conclusion")  # fmt: skip


def _math(tex: str) -> str:
    """Inline math as LaTeXML writes it: MathML, alttext, and the TeX again as an annotation."""
    e = html.escape(tex)
    mrows = "".join(f"<mi>{html.escape(c)}</mi>" for c in tex[:12] if c.isalnum())
    return (
        f'<math alttext="{e}" class="ltx_Math" display="inline" id="m{abs(hash(tex)) % 999}"><semantics>'
        f"<mrow>{mrows}<mo>=</mo><msub><mi>x</mi><mn>1</mn></msub></mrow>"
        f'<annotation encoding="application/x-tex">{e}</annotation>'
        f'<annotation encoding="application/x-llamapun">{e}</annotation></semantics></math>'
    )


def _paragraph(rng: random.Random, section: str, k: int) -> str:
    sentences = []
    for _ in range(rng.randint(4, 8)):
        words = html.escape(rng.choice(SENTENCES))
        if rng.random() < 0.6:
            words += " We write " + _math(rng.choice(TEX)) + "."
        if rng.random() < 0.3:
            words += (
                ' <cite class="ltx_cite ltx_citemacro_citep">(<a class="ltx_ref" href="#bib.bib3" '
                'title="">Vaswani et al., 2017</a>)</cite>'
            )
        sentences.append(words)
    return f'<div class="ltx_para" id="{section}.p{k}"><p class="ltx_p">{" ".join(sentences)}</p></div>'


def _figure(n: int, table: bool) -> str:
    if table:
        rows = "".join(
            '<tr class="ltx_tr">' + "".join(f'<td class="ltx_td ltx_align_center">{(r * 7 + c) % 100}.{c}</td>'
                                            for c in range(8)) + "</tr>"
            for r in range(12)
        )  # fmt: skip
        return (
            f'<figure class="ltx_table" id="S2.T{n}"><table class="ltx_tabular ltx_centering">{rows}</table>'
            f'<figcaption class="ltx_caption"><span class="ltx_tag ltx_tag_table">Table {n}: </span>Scores '
            f"of the {n} runs on the eight benchmarks.</figcaption></figure>"
        )
    return (
        f'<figure class="ltx_figure" id="S2.F{n}"><img alt="Refer to caption" class="ltx_graphics ltx_centering" '
        f'height="300" id="S2.F{n}.g1" src="x{n}.png" width="598"><figcaption class="ltx_caption ltx_centering">'
        f'<span class="ltx_tag ltx_tag_figure">Figure {n}: </span>Accuracy of the agent against '
        f"{_math(ALPHA)} over {n * 10} steps; higher is better.</figcaption></figure>"
    )


def page(index: int, target: int) -> str:
    """A LaTeXML page of about `target` bytes."""
    rng = random.Random(index)
    head = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>A paper</title>'
        '<link rel="stylesheet" href="https://arxiv.org/static/browse/0.3.4/css/ar5iv.0.7.9.min.css"></head><body>'
        '<nav class="ltx_page_navbar"><nav class="ltx_TOC"><ol class="ltx_toclist">'
        + "".join(f'<li class="ltx_tocentry"><a href="#S{i}">{s}</a></li>' for i, s in enumerate(SECTIONS, 1))
        + '</ol></nav></nav><div class="ltx_page_main"><div class="ltx_page_content"><article class="ltx_document">'
        f'<h1 class="ltx_title ltx_title_document">Paper {index}</h1><div class="ltx_authors"><span class="ltx_creator">'
        'Ada Lovelace</span></div><div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>'
        f'<p class="ltx_p">{html.escape(" ".join(rng.choice(SENTENCES) for _ in range(8)))}</p></div>'
    )
    refs = "".join(
        f'<li class="ltx_bibitem" id="bib.bib{i}"><span class="ltx_tag ltx_tag_bibitem">Author{i} et al. (2024)'
        f'</span><span class="ltx_bibblock">{html.escape(rng.choice(SENTENCES)[:90])}</span>'
        '<span class="ltx_bibblock"><em class="ltx_emph">arXiv preprint</em>.</span></li>'
        for i in range(rng.randint(40, 80))
    )
    tail = (
        f'<section class="ltx_bibliography" id="bib"><h2 class="ltx_title">References</h2><ul class="ltx_biblist">{refs}'
        "</ul></section>"
        '<section class="ltx_appendix" id="A1"><h2 class="ltx_title ltx_title_appendix">Appendix A Prompts</h2>'
        + "".join(_paragraph(rng, "A1", k) for k in range(12))
        + '</section><section class="ltx_appendix" id="A2"><h2 class="ltx_title">Appendix B Details</h2>'
        + _paragraph(rng, "A2", 1)
        + '</section></article></div><footer class="ltx_page_footer">Generated by LaTeXML</footer></div></body></html>'
    )
    body: list[str] = []
    size = len(head) + len(tail)
    k = 0
    figures = 0
    while size < target:
        number = k // 6 % len(SECTIONS) + 1
        part = _paragraph(rng, f"S{number}", k)
        if k % 9 == 4:
            figures += 1
            part += _figure(figures, table=figures % 3 == 0)
        if k % 40 == 20:
            part += (
                '<span class="ltx_note ltx_role_footnote"><sup class="ltx_note_mark">1</sup><span '
                'class="ltx_note_outer"><span class="ltx_note_content">A footnote.</span></span></span>'
            )
        body.append(part)
        size += len(part)
        k += 1
    sections, per = [], max(1, len(body) // len(SECTIONS))
    for i, name in enumerate(SECTIONS):
        chunk = body[i * per : (i + 1) * per if i < len(SECTIONS) - 1 else len(body)]
        half = len(chunk) // 2
        sections.append(
            f'<section class="ltx_section" id="S{i + 1}"><h2 class="ltx_title ltx_title_section"><span class="ltx_tag">'
            f"{i + 1} </span>{name}</h2>{''.join(chunk[:half])}"
            f'<section class="ltx_subsection" id="S{i + 1}.SS1"><h3 class="ltx_title">{i + 1}.1 Setting</h3>'
            f"{''.join(chunk[half:])}</section></section>"
        )
    return head + "".join(sections) + tail


async def run(count: int) -> None:
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    prefix = f"hfwbench-{uuid.uuid4().hex[:8]}"
    arxiv, hf = FakeArxiv(), FakeHF()
    targets = [100_000 + (300_000 * i) // max(1, count - 1) for i in range(count)]
    papers = [Paper(f"2509.{10000 + i}", f"Paper {i}", "An abstract.", 0) for i in range(count)]
    for paper, target, i in zip(papers, targets, range(count), strict=True):
        arxiv.html[paper.id] = page(i, target)
    sizes = [len(arxiv.html[p.id].encode()) for p in papers]
    redis = Redis.from_url(redis_url, decode_responses=True)
    store = Store(redis, prefix=prefix)
    await arxiv.start()
    await hf.start()
    try:
        async with aiohttp.ClientSession() as session:
            source = FullTextSource(session, store, hf_base_url=hf.url, arxiv_html_base_url=arxiv.url)
            await source.get(Paper("2509.00000", "warm-up", "An abstract.", 0))  # imports, connections
            whole, parse = [], []
            for paper in papers:
                started = time.process_time()
                full = await source.get(paper)
                whole.append((time.process_time() - started) * 1000)
                assert full.source == "arxiv_html", full.source
                started = time.process_time()
                arxiv_page(arxiv.html[paper.id], f"{arxiv.url}/html/{paper.id}v2")
                parse.append((time.process_time() - started) * 1000)
            memory = [int(await redis.memory_usage(store._key("fulltext", p.id)) or 0) for p in papers]
            lengths = [int(await redis.strlen(store._key("fulltext", p.id))) for p in papers]
            kept = [await source.get(p) for p in papers]
    finally:
        await drop_keys(redis, prefix)
        await redis.aclose()
        await arxiv.stop()
        await hf.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count} LaTeXML pages, {min(sizes) // 1000}–{max(sizes) // 1000} KB (mean {statistics.mean(sizes) / 1000:.0f} KB)"
          f"; kept text {statistics.mean(k.chars for k in kept) / 1000:.1f}k characters on average, "
          f"{sum(k.truncated for k in kept)} capped, {sum(k.figure is not None for k in kept)} with a figure\n")  # fmt: skip
    print("| figure | p50 | max | bar | result |")
    print("|---|---|---|---|---|")
    ok = percentile(whole, 0.5) <= 50 and max(whole) <= 50
    print(f"| CPU per paper, get (fetch + parse + keep) | {statistics.median(whole):.1f} ms | {max(whole):.1f} ms "
          f"| ≤ 50 ms | {'pass' if ok else 'FAIL'} |")  # fmt: skip
    print(f"| CPU per paper, parse alone | {statistics.median(parse):.1f} ms | {max(parse):.1f} ms | | |")
    print(f"| peak RSS | {rss:.0f} MB | | ≤ 150 MB | {'pass' if rss <= 150 else 'FAIL'} |")
    print(f"| Redis bytes per kept paper (MEMORY USAGE) | {statistics.median(memory) / 1000:.1f} kB "
          f"| {max(memory) / 1000:.1f} kB | report | mean {statistics.mean(memory) / 1000:.1f} kB |")  # fmt: skip
    print(f"| Redis value (STRLEN) | {statistics.median(lengths) / 1000:.1f} kB | {max(lengths) / 1000:.1f} kB | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.papers))


if __name__ == "__main__":
    main()
