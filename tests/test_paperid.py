"""Paper ids and links as people paste them: one row per form."""

from __future__ import annotations

import pytest

from bot.paperid import deep_link_id, find_paper_link, from_deep_link, parse_paper_id


@pytest.mark.parametrize(
    ("text", "paper_id"),
    [
        ("2509.13310", "2509.13310"),
        ("  2509.13310 ", "2509.13310"),
        ("2509.13310v2", "2509.13310"),  # a version is the same paper
        ("1501.0001", "1501.0001"),  # four digits after the dot until 2014
        ("arXiv:2509.13310", "2509.13310"),
        ("arxiv.org/abs/2509.13310v2", "2509.13310"),
        ("https://arxiv.org/abs/2509.13310", "2509.13310"),
        ("http://www.arxiv.org/abs/2509.13310v11", "2509.13310"),
        ("arxiv.org/pdf/2509.13310", "2509.13310"),
        ("https://arxiv.org/pdf/2509.13310v1.pdf", "2509.13310"),
        ("https://arxiv.org/html/2509.13310v1", "2509.13310"),
        ("https://export.arxiv.org/abs/2509.13310", "2509.13310"),
        ("huggingface.co/papers/2509.13310", "2509.13310"),
        ("https://huggingface.co/papers/2509.13310#community", "2509.13310"),
        ("https://hf.co/papers/2509.13310?utm_source=x", "2509.13310"),
        ("hep-th/9901001", "hep-th/9901001"),  # old-style ids
        ("hep-th/9901001v3", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("https://arxiv.org/abs/cond-mat/0211034", "cond-mat/0211034"),
        ("2509.133", None),  # too short
        ("25091.3310", None),
        ("hello", None),
        ("https://example.com/abs/2509.13310", None),
        ("2509.13310 and more", None),
        ("", None),
    ],
)
def test_parse_paper_id(text: str, paper_id: str | None) -> None:
    assert parse_paper_id(text) == paper_id


@pytest.mark.parametrize(
    ("text", "paper_id"),
    [
        ("이거 보세요 https://arxiv.org/abs/2509.13310v2 재밌어요", "2509.13310"),
        ("https://huggingface.co/papers/2509.13310", "2509.13310"),
        ("see hf.co/papers/2509.13310.", "2509.13310"),
        ("2509.13310 without a link", None),  # a bare id inside a sentence is no link
        ("https://example.com/2509.13310", None),
    ],
)
def test_links_inside_a_message(text: str, paper_id: str | None) -> None:
    assert find_paper_link(text) == paper_id


@pytest.mark.parametrize("paper_id", ["2509.13310", "hep-th/9901001", "math.GT/0309136"])
def test_deep_links_carry_every_id(paper_id: str) -> None:
    payload = deep_link_id(paper_id)
    assert all(c.isalnum() or c in "_-" for c in payload)
    assert from_deep_link(payload) == paper_id
