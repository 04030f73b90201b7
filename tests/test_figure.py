"""/paper's first figure (bot/figure.py): arXiv's HTML through the fake arXiv, the caption through the
fake Claude and the gate, the photo through the fake Telegram, the caches in the real Redis."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import zlib
from collections.abc import AsyncIterator

import pytest

from bot.app import App
from bot.config import Settings
from bot.figure import CAPTION_LIMIT, caption_html, cut
from bot.models import Figure, FullText, Paper
from bot.sources.fulltext_parse import arxiv_figure
from bot.store.fulltext import decode_full_text, encode_full_text
from tests.conftest import ALICE, BOB, FORUM, NOW
from tests.fakes.anthropic import FakeClaude
from tests.fakes.arxiv import FakeArxiv
from tests.fakes.hf import FakeHF, item_2026
from tests.fakes.papers_text import latexml_paper, paper_markdown, sample_body
from tests.fakes.telegram import FakeTelegram, Sent
from tests.fakes.telegram_html import parse_telegram_html
from tests.test_bot import ask
from tests.test_paper import Clock, running

PID = "2601.00031"
ABSTRACT = (
    "We present AgentFounder-30B, an agent pre-trained on long traces, which reaches 39.9% on BrowseComp-en "
    "and improves over the baseline by 5 points on every benchmark we tried in our experiments."
)
CAPTION = "Figure 1: AgentFounder-30B reaches 39.9% on BrowseComp-en, ahead of GPT-4o."
CAPTIONS = ("Table 1: Scores on 3 benchmarks.", CAPTION, "Figure 2: Training curves.")
REFUSED = "Bad Request: wrong file identifier/HTTP URL specified"


@pytest.fixture
async def bot(settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv) -> AsyncIterator[App]:
    fake_hf.papers[PID] = item_2026(PID, "Agentic pre-training", ABSTRACT, 12)
    async with running(settings, fake_tg, Clock()) as app:
        yield app


def with_html(fake_arxiv: FakeArxiv, captions: tuple[str, ...] = CAPTIONS, pid: str = PID) -> None:
    fake_arxiv.html[pid] = latexml_paper("Agentic pre-training", ABSTRACT, sample_body(), captions=captions)


async def figure_done(app: App) -> None:
    assert app.figures is not None
    await asyncio.wait_for(app.figures.wait_idle(), 30)


def caption(sent: Sent) -> str:
    return parse_telegram_html(sent.text)


def html_fetches(fake_arxiv: FakeArxiv, pid: str = PID) -> int:
    return fake_arxiv.requests.count(f"/html/{pid}")  # the unversioned address: one per fetch (then redirected)


async def test_the_first_figure_follows_the_text_with_a_korean_caption(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv, fake_claude: FakeClaude
) -> None:
    with_html(fake_arxiv)
    fake_arxiv.html_gate.clear()  # arXiv slow: the text answer must not wait for the figure
    sent = await ask(fake_tg, ALICE, f"/paper {PID}")
    assert "한국어 제목: Agentic pre-training" in parse_telegram_html(sent[-1].text)
    assert not fake_tg.photos(ALICE)
    await fake_arxiv.wait_for(lambda: html_fetches(fake_arxiv) == 1)  # the figure is being fetched meanwhile
    fake_arxiv.html_gate.set()
    await figure_done(bot)
    [photo] = fake_tg.photos(ALICE)
    assert fake_tg.sent.index(photo) > fake_tg.sent.index(sent[-1])
    assert photo.photo == f"{fake_arxiv.url}/html/{PID}v2/x2.png"  # the table skipped; relative to the v2 page
    shown = caption(photo)
    assert "AgentFounder-30B" in shown and "39.9%" in shown and "GPT-4o" in shown and "원문의" in shown
    assert "번역 준비 중" not in shown and photo.params.get("parse_mode") == "HTML"
    caption_calls = [r for r in fake_claude.requests if "caption_ko" in str(r["output_config"])]
    assert len(caption_calls) == 1 and CAPTION in str(caption_calls[0]["messages"])
    again = await ask(fake_tg, BOB, f"/paper {PID}")  # cached: the text, the figure and its caption
    assert again
    await figure_done(bot)
    [photo_bob] = fake_tg.photos(BOB)
    assert photo_bob.text == photo.text and html_fetches(fake_arxiv) == 1
    assert len([r for r in fake_claude.requests if "caption_ko" in str(r["output_config"])]) == 1


async def test_the_figure_goes_to_the_forum_topic_the_request_came_from(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv
) -> None:
    with_html(fake_arxiv)
    await ask(fake_tg, ALICE, f"/paper {PID}", chat=FORUM, thread_id=7)
    await figure_done(bot)
    [photo] = fake_tg.photos(FORUM)
    assert photo.params.get("message_thread_id") == 7


async def test_a_paper_without_figures_gets_no_photo(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv, caplog: pytest.LogCaptureFixture
) -> None:
    with_html(fake_arxiv, captions=("Table 1: Only a table here.",))
    caplog.set_level(logging.INFO, logger="bot.handlers.paper")
    await ask(fake_tg, ALICE, f"/paper {PID}")
    await figure_done(bot)
    assert html_fetches(fake_arxiv) == 1 and not fake_tg.photos(ALICE)
    assert "no figure to send" in caplog.text


async def test_a_paper_from_hugging_face_markdown_takes_its_figure_from_arxiv_once(
    bot: App, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.markdown[PID] = paper_markdown("Agentic pre-training", ABSTRACT, sample_body())
    with_html(fake_arxiv)
    for user in (ALICE, BOB):
        await ask(fake_tg, user, f"/paper {PID}")
        await figure_done(bot)
    assert bot.fulltext is not None
    assert (await bot.fulltext.get(Paper(PID, "Agentic pre-training", ABSTRACT, 12))).source == "hf_md"
    assert html_fetches(fake_arxiv) == 1  # fetched for the figure alone, once; kept for the second ask
    for user in (ALICE, BOB):
        [photo] = fake_tg.photos(user)
        assert photo.photo == f"{fake_arxiv.url}/html/{PID}v2/x2.png" and "AgentFounder-30B" in caption(photo)


async def test_a_caption_the_gate_rejects_is_shown_in_english_marked_pending(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv, fake_claude: FakeClaude
) -> None:
    with_html(fake_arxiv)
    fake_claude.script.extend(["good", "invented_name", "invented_name"])  # the paper, then its caption twice
    await ask(fake_tg, ALICE, f"/paper {PID}")
    await figure_done(bot)
    [photo] = fake_tg.photos(ALICE)
    assert caption(photo) == f"{CAPTION}\n\n⏳ 번역 준비 중"
    assert "GPT-7" not in caption(photo)
    reask = fake_claude.requests[2]["messages"][-1]["content"]
    assert 'caption_ko mentions "GPT-7", which the source does not contain' in reask


async def test_a_caption_of_2000_characters_is_cut_to_telegrams_limit(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv
) -> None:
    long = "Figure 1: " + " ".join(f"Panel {i} shows the loss of run {i} falling steadily." for i in range(40))
    assert len(long) > 2000
    with_html(fake_arxiv, captions=(long,))
    await ask(fake_tg, ALICE, f"/paper {PID}")
    await figure_done(bot)
    [photo] = fake_tg.photos(ALICE)  # the fake refuses a caption over 1,024 units
    shown = caption(photo)
    assert shown.endswith("…") and len(shown) <= CAPTION_LIMIT and "원문의" in shown


async def test_hostile_html_in_a_caption_is_escaped(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv, fake_claude: FakeClaude
) -> None:
    hostile = 'Figure 1: <b>bold</b> & <a href="https://evil.example">x</a> <script>alert(1)</script>'
    with_html(fake_arxiv, captions=(hostile,))
    fake_claude.script.extend(["good", "status:400"])  # the caption's translation fails: the English shown
    await ask(fake_tg, ALICE, f"/paper {PID}")
    await figure_done(bot)
    [photo] = fake_tg.photos(ALICE)
    assert caption(photo).startswith(hostile)  # shown literally: no tag of it reached Telegram as markup
    assert "<script>" not in photo.text and "&lt;script&gt;" in photo.text


async def test_telegram_refusing_the_photo_breaks_nothing(
    bot: App, fake_tg: FakeTelegram, fake_arxiv: FakeArxiv, caplog: pytest.LogCaptureFixture
) -> None:
    with_html(fake_arxiv)
    fake_tg.photo_failures[f"{fake_arxiv.url}/html/{PID}v2/x2.png"] = REFUSED
    caplog.set_level(logging.WARNING, logger="bot.handlers.paper")
    first = await ask(fake_tg, ALICE, f"/paper {PID}")
    await figure_done(bot)
    assert not fake_tg.photos(ALICE) and ("sendPhoto", ALICE, REFUSED) in fake_tg.rejected
    assert "did not take the figure" in caplog.text and "wrong file identifier" in caplog.text.lower()
    assert all("번역 준비 중" not in parse_telegram_html(s.text) for s in first)
    again = await ask(fake_tg, ALICE, f"/paper {PID}")  # the bot goes on answering
    assert "한국어 제목: Agentic pre-training" in parse_telegram_html(again[-1].text)


async def test_the_figure_can_be_turned_off(
    settings: Settings, fake_tg: FakeTelegram, fake_hf: FakeHF, fake_arxiv: FakeArxiv
) -> None:
    fake_hf.papers[PID] = item_2026(PID, "Agentic pre-training", ABSTRACT, 12)
    with_html(fake_arxiv)
    async with running(settings, fake_tg, Clock(), paper_figure=False) as app:
        assert app.figures is None
        sent = await ask(fake_tg, ALICE, f"/paper {PID}")
    assert sent and not fake_tg.photos(ALICE) and html_fetches(fake_arxiv) == 0


# --- pure parts ------------------------------------------------------------------------------------


def test_the_first_figure_with_an_image_and_an_http_url() -> None:
    page = (
        '<html><body><figure class="ltx_table" id="S1.T1"><img src="t.png"><figcaption>Table 1: no</figcaption>'
        '</figure><figure class="ltx_figure"><figcaption>Figure 1: no image</figcaption></figure>'
        '<figure class="ltx_figure"><img src="data:image/png;base64,AAAA"><figcaption>Figure 2: data'
        '</figcaption></figure><figure class="ltx_figure" id="S1.F3"><div class="ltx_flex_figure">'
        '<figure class="ltx_figure ltx_figure_panel"><img src="x3a.png"><figcaption>(a)</figcaption></figure>'
        "</div><figcaption>Figure 3:  Two   panels.</figcaption></figure></body></html>"
    )
    assert arxiv_figure(page, "https://arxiv.org/html/2509.13310v1") == Figure(
        "https://arxiv.org/html/2509.13310v1/x3a.png", "Figure 3: Two panels."
    )
    based = page.replace("<body>", '<head><base href="/html/2509.13310v2/"></head><body>')
    assert arxiv_figure(based, "https://arxiv.org/html/2509.13310") == Figure(
        "https://arxiv.org/html/2509.13310v2/x3a.png", "Figure 3: Two panels."
    )
    assert arxiv_figure("<p>none</p>", "https://arxiv.org/html/1") is None
    assert arxiv_figure("", "https://arxiv.org/html/1") is None


def test_a_full_text_kept_before_figures_reads_without_one() -> None:
    full = FullText("2509.1", "arxiv_html", (("Abstract", "x"),), False, NOW, Figure("https://a/x1.png", "Fig"))
    assert decode_full_text(encode_full_text(full)) == full
    old = json.loads(zlib.decompress(base64.b64decode(encode_full_text(full))))
    del old["figure"]
    raw = base64.b64encode(zlib.compress(json.dumps(old).encode())).decode()
    assert decode_full_text(raw).figure is None


def test_cut_at_a_sentence_or_word_boundary() -> None:
    text = "First sentence here. Second one is longer than the first. Third one."
    assert cut(text, 100) == text
    assert cut(text, 66) == "First sentence here. Second one is longer than the first.…"  # a sentence
    assert cut(text, 50) == "First sentence here. Second one is longer than…"  # a word: the sentence is short
    assert cut("word " * 300, 1024).endswith("word…") and len(cut("word " * 300, 1024)) <= 1024
    english = caption_html("A <b> & " + "x" * 3000, None)
    assert len(parse_telegram_html(english)) <= CAPTION_LIMIT and english.endswith("번역 준비 중</b>")
    assert "&lt;b&gt; &amp;" in english
