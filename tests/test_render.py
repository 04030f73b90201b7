from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.links import stars
from bot.models import Digest, DigestItem, Form, Paper, Status, Translation, View
from bot.render import (
    PENDING_KO,
    TELEGRAM_LIMIT,
    digest_to_dict,
    plain_text,
    render_json,
    render_paper_parts,
    render_telegram,
    render_text,
    telegram_length,
)
from bot.week import IsoWeek
from tests.fakes.hf import DATA
from tests.fakes.telegram_html import TelegramHTMLError, parse_telegram_html, utf16_length

W38 = IsoWeek(2025, 38)
HOSTILE_TITLE = 'Attack </a><script>alert("x")</script> & <b>bold</b> "quotes"'
HOSTILE_ABSTRACT = "We show that a < b && c > d; see </blockquote> and <a href='x'>links</a> &amp; more. 5% gain."


def paper(n: int, title: str | None = None, abstract: str | None = None) -> Paper:
    return Paper(
        id=f"2509.{n:05d}",
        title=title or f"Paper number {n}",
        abstract=abstract or f"Abstract of paper {n}. It improves results by {n}%.",
        upvotes=100 - n,
    )


def translated(p: Paper, rank: int, *, title_ko: str | None = None, summary: str | None = None) -> DigestItem:
    t = Translation(
        title_ko=title_ko or f"{rank}번 논문 제목",
        summary_ko=summary or f"{rank}번 논문의 요약이다. 성능을 {rank}% 높였다.",
        abstract_ko=f"{rank}번 논문의 초록 번역이다.",
    )
    return DigestItem(rank=rank, paper=p, translation=t, status=Status.TRANSLATED)


def pending(p: Paper, rank: int) -> DigestItem:
    return DigestItem(rank=rank, paper=p, translation=None, status=Status.PENDING)


def digest(*items: DigestItem) -> Digest:
    return Digest(
        week=W38,
        start=W38.monday(),
        end=W38.sunday(),
        source_url="https://huggingface.co/papers/week/2025-W38",
        fetched_at=datetime(2025, 9, 22, 0, 5, tzinfo=UTC),
        items=items,
    )


def test_text_reproduces_the_old_layout() -> None:
    d = digest(translated(paper(1), 1), pending(paper(2), 2))
    assert render_text(d) == (
        "Hugging Face 주간 인기 논문 Top 2 (2025-W38) - 번역본\n"
        "출처: https://huggingface.co/papers/week/2025-W38\n"
        "\n"
        "--- 1. Paper number 1 ---\n"
        "Link: https://huggingface.co/papers/2509.00001\n"
        "\n"
        "## Abstract (Original)\n"
        "Abstract of paper 1. It improves results by 1%.\n"
        "\n"
        "## 초록 (Korean)\n"
        "1번 논문의 초록 번역이다.\n"
        "\n"
        "--- 2. Paper number 2 ---\n"
        "Link: https://huggingface.co/papers/2509.00002\n"
        "\n"
        "## Abstract (Original)\n"
        "Abstract of paper 2. It improves results by 2%.\n"
        "\n"
        "## 초록 (Korean)\n"
        "(번역 준비 중입니다. 번역이 끝나면 이 자리에 한국어 초록이 실립니다.)\n"
        "\n"
    )


def test_json_schema() -> None:
    d = digest(translated(paper(1), 1), pending(paper(2), 2))
    data = json.loads(render_json(d))
    assert data == digest_to_dict(d)
    assert set(data) == {"week", "range", "source_url", "fetched_at", "papers"}
    assert data["week"] == "2025-W38"
    assert data["range"] == ["2025-09-15", "2025-09-21"]
    assert data["fetched_at"] == "2025-09-22T00:05:00+00:00"
    first, second = data["papers"]
    assert set(first) == {
        "rank", "id", "title", "title_ko", "summary_ko", "abstract", "abstract_ko",
        "upvotes", "hf_url", "arxiv_url", "status",
    }  # fmt: skip
    assert first["status"] == "translated" and first["title_ko"] == "1번 논문 제목"
    assert first["arxiv_url"] == "https://arxiv.org/abs/2509.00001"
    assert second["status"] == "pending"
    assert second["title_ko"] is second["summary_ko"] is second["abstract_ko"] is None


def test_telegram_message_content() -> None:
    [message] = render_telegram(digest(translated(paper(1), 1), pending(paper(2), 2)))
    parse_telegram_html(message)
    assert message.startswith("<b>🤗 Hugging Face 주간 인기 논문 Top 2</b>\n2025-W38 · 2025년 9월 15일 ~ 9월 21일")
    assert "<b>1. 1번 논문 제목</b>\n<i>Paper number 1</i>\n▲ 99 · " in message
    assert '<a href="https://huggingface.co/papers/2509.00001">HF</a>' in message
    assert '<a href="https://arxiv.org/abs/2509.00001">arXiv</a>' in message
    assert "1번 논문의 요약이다. 성능을 1% 높였다." in message
    assert "<b>2. Paper number 2</b>\n▲ 98 · " in message
    assert f"⏳ <b>{PENDING_KO}</b>\n<blockquote expandable>Abstract of paper 2." in message
    assert message.endswith(
        '출처: <a href="https://huggingface.co/papers/week/2025-W38">huggingface.co/papers/week/2025-W38</a>\n'
        "🤖 Claude가 번역·요약한 AI 번역입니다. 정확한 내용은 원문을 확인해 주세요."
    )
    assert "전문 번역" not in message  # no bot username, no deep link


def test_deep_links_when_the_bot_is_known() -> None:
    [message] = render_telegram(digest(translated(paper(1), 1), pending(paper(2), 2)), bot_username="hfweekly_bot")
    assert '<a href="https://t.me/hfweekly_bot?start=p_2509_00001">전문 번역</a>' in message
    assert "start=p_2509_00002" not in message  # nothing to read in full while pending


def test_hostile_text_is_escaped_everywhere() -> None:
    evil = paper(1, title=HOSTILE_TITLE, abstract=HOSTILE_ABSTRACT)
    items = (
        translated(evil, 1, title_ko=HOSTILE_TITLE, summary="<i>요약</i> & 결과 </b> 이다"),
        pending(paper(2, title=HOSTILE_TITLE, abstract=HOSTILE_ABSTRACT), 2),
        DigestItem(rank=3, paper=evil, translation=None, status=Status.UNTRANSLATED),
    )
    [message] = render_telegram(digest(*items), bot_username="hfweekly_bot")
    shown = parse_telegram_html(message)  # raises where Telegram would refuse the message
    assert HOSTILE_TITLE in shown
    assert HOSTILE_ABSTRACT in shown
    assert "<i>요약</i> & 결과 </b> 이다" in shown
    assert "<script>" not in message


@pytest.mark.parametrize(
    "bad",
    ["<b>open", "a < b", "x & y", "<p>para</p>", "<b><i>x</b></i>", "&nbsp;", '<a href="">x</a>'],
)
def test_the_validator_refuses_what_telegram_refuses(bad: str) -> None:
    with pytest.raises(TelegramHTMLError):
        parse_telegram_html(bad)


def test_long_digests_split_between_papers_within_the_limit() -> None:
    long_abstract = ("Long sentence about a method with 𝔸 math and 😀 emoji. " * 36).strip()
    items = [pending(paper(n, abstract=long_abstract), n) for n in range(1, 11)]
    parts = render_telegram(digest(*items))
    assert len(parts) >= 5
    for part in parts:
        shown = parse_telegram_html(part)
        assert utf16_length(shown) <= TELEGRAM_LIMIT
        assert telegram_length(part) == utf16_length(shown)
    assert parts[0].startswith("<b>🤗")
    assert "출처:" in parts[-1] and all("출처:" not in p for p in parts[:-1])
    joined = "\n\n".join(parts)
    for n in range(1, 11):  # every paper whole, in order, in exactly one part
        holders = [i for i, part in enumerate(parts) if f"<b>{n}. Paper number {n}</b>" in part]
        assert len(holders) == 1
        assert joined.count(long_abstract) == 10


def test_a_paper_too_long_for_one_message_is_shortened_not_split() -> None:
    huge = "x" * 5000
    parts = render_telegram(digest(pending(paper(1, abstract=huge), 1)))
    [part] = parts
    assert utf16_length(parse_telegram_html(part)) <= TELEGRAM_LIMIT
    assert "…</blockquote>" in part


def test_huge_titles_are_shortened_too() -> None:
    long_title = "T" * 5000
    item = translated(paper(1, title=long_title), 1, title_ko="제" * 5000)
    [part] = render_telegram(digest(item, pending(paper(2, title=long_title, abstract="x" * 5000), 2)))[:1]
    assert utf16_length(parse_telegram_html(part)) <= TELEGRAM_LIMIT


def test_english_digest_is_not_labelled_as_a_translation() -> None:
    d = digest(DigestItem(rank=1, paper=paper(1), translation=None, status=Status.UNTRANSLATED))
    assert render_text(d).startswith("Hugging Face 주간 인기 논문 Top 1 (2025-W38) - 원문\n")
    [message] = render_telegram(d)
    assert "AI 번역" not in message and "번역하지 않은 원문입니다." in message
    assert "번역 준비 중" not in message


def test_real_weeks_render_in_one_or_two_messages() -> None:
    data = json.loads((DATA / "hf-weeks" / "2025-W38.json").read_text())
    items = [
        translated(Paper(p["id"], p["title"], " ".join(p["abstract"].split()), 50), p["rank"]) for p in data["papers"]
    ]
    parts = render_telegram(digest(*items), bot_username="hfweekly_bot")
    assert 1 <= len(parts) <= 2
    for part in parts:
        assert utf16_length(parse_telegram_html(part)) <= TELEGRAM_LIMIT


def test_whatever_a_translation_holds_every_message_fits() -> None:
    paper = Paper(id="2509.00001", title="A title " * 500, abstract="An abstract. " * 2000, upvotes=1)
    huge = Translation(title_ko="아주 긴 제목 " * 800, summary_ko="매우 긴 요약. " * 800, abstract_ko="초록 " * 5000)
    for translation in (huge, None):
        for text in render_paper_parts(paper, translation, IsoWeek(2025, 38)):
            assert utf16_length(parse_telegram_html(text)) <= 4096
    items = [DigestItem(rank=i, paper=paper, translation=huge, status=Status.TRANSLATED) for i in range(1, 11)]
    parts = render_telegram(digest(*items), bot_username="bot")
    assert all(utf16_length(parse_telegram_html(part)) <= 4096 for part in parts)


def test_a_brief_digest_of_fifty_long_titled_papers_is_one_message() -> None:
    from bot.models import Form, View

    long = "A very long title about scaling multimodal models on web data " * 3
    items = tuple(translated(paper(n, title=long), n, title_ko="매우 긴 한국어 제목 " * 12) for n in range(1, 51))
    digest = Digest(W38, W38.monday(), W38.sunday(), "https://huggingface.co/papers/week/2025-W38",
                    datetime(2025, 9, 22, tzinfo=UTC), items)  # fmt: skip
    [message] = render_telegram(digest, view=View(form=Form.BRIEF, count=50, topics=("model",)))
    assert telegram_length(message) <= TELEGRAM_LIMIT
    assert "50. " in parse_telegram_html(message)


def test_a_paper_answer_is_rendered_again_into_as_many_messages_as_were_sent() -> None:
    """The editor cannot add or take away messages: a changed translation fills exactly the messages
    the answer had, each within Telegram's limit, the provenance line on the last."""
    paper = Paper(id="2509.00001", title="A title", abstract="An abstract. " * 40, upvotes=1)
    long = Translation(
        "긴 번역", "요약 문장이다. 두 번째 문장이다.", "번역 문장이다. " * 900, model="claude-sonnet-5-5"
    )
    short = Translation("짧은 번역", "요약 문장이다. 두 번째 문장이다.", "첫 문장이다. 두 번째 문장이다. 세 번째다.")
    sent = render_paper_parts(paper, long, IsoWeek(2025, 38))
    assert len(sent) >= 3
    for translation in (long, short, replace(long, abstract_ko="문장이다. " * 5000)):
        again = render_paper_parts(paper, translation, IsoWeek(2025, 38), parts=len(sent))
        assert len(again) == len(sent)
        assert all(telegram_length(part) <= TELEGRAM_LIMIT for part in again)
        assert "✍️ Claude" in plain_text(again[-1])


# --- a paper's code and project links (issue 18) -----------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (9, "9"), (999, "999"), (1000, "1k"), (1234, "1.2k"), (12_345, "12k"),
                         (999_999, "999k"), (1_500_000, "1.5M")],
)  # fmt: skip
def test_stars_in_short(count: int, shown: str) -> None:
    assert stars(count) == shown


def test_code_and_project_links_show_in_every_form_and_answer() -> None:
    linked = replace(
        paper(1), github_repo="https://github.com/x/y?a=1&b=2", github_stars=1234, project_page="https://y.io/"
    )
    items = (translated(linked, 1), translated(paper(2), 2))
    for view in (View(form=Form.SUMMARY), View(form=Form.FULL), View(form=Form.BRIEF)):
        [message] = render_telegram(digest(*items), view=view)
        parse_telegram_html(message)  # valid, the URL's & escaped
        assert '<a href="https://github.com/x/y?a=1&amp;b=2">코드 ★1.2k</a>' in message, view.form
        assert message.count("코드 ★") == 1  # only the paper that has a repository
        assert ('<a href="https://y.io/">프로젝트</a>' in message) is (view.form is not Form.BRIEF)
    answer = "".join(render_paper_parts(linked, items[0].translation, W38))
    assert '코드 ★1.2k</a> · <a href="https://y.io/">프로젝트</a>' in answer
    no_stars = replace(linked, github_stars=None, project_page=None)
    assert '">코드</a>' in "".join(render_paper_parts(no_stars, None, W38))
