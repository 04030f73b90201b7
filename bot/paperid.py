"""Paper ids as people paste them: `2509.13310`, `arxiv.org/abs/2509.13310v2`, `arxiv.org/pdf/2509.13310`,
`huggingface.co/papers/2509.13310`, `arXiv:2509.13310`, and old-style ids such as `hep-th/9901001`.
Pure. The version suffix is dropped: every version is the same paper to a reader."""

from __future__ import annotations

import re

# New-style arXiv ids (since 2007): YYMM.NNNN (until 2014) or YYMM.NNNNN, with an optional version.
_NEW = r"(?P<new>\d{4}\.\d{4,5})(?:v\d+)?"
# Old-style ids: archive(.SUBJECT)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD = r"(?P<old>[a-z][a-z\-]*(?:\.[A-Za-z]{2})?/\d{7})(?:v\d+)?"
_ID = rf"(?:{_NEW}|{_OLD})"
_HOSTS = r"(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|hf\.co/papers/)"
_WHOLE = re.compile(rf"^\s*(?:arxiv:\s*)?(?:{_HOSTS})?{_ID}(?:\.pdf)?/?(?:[?#]\S*)?\s*$", re.IGNORECASE)
_IN_TEXT = re.compile(rf"{_HOSTS}{_ID}", re.IGNORECASE)


def parse_paper_id(text: str) -> str | None:
    """The arXiv id `text` names (a bare id or a link), without its version; None if it names none."""
    match = _WHOLE.match(text)
    return _id(match) if match else None


def find_paper_link(text: str) -> str | None:
    """The id of the first arXiv or Hugging Face paper link in a message, if it has one."""
    match = _IN_TEXT.search(text)
    return _id(match) if match else None


def _id(match: re.Match[str]) -> str:
    return match["new"] or match["old"]


def deep_link_id(paper_id: str) -> str:
    """The id as a `/start` payload may carry it (letters, digits, _ and - only): p_2509_13310."""
    return paper_id.replace(".", "_").replace("/", "--")


def from_deep_link(payload: str) -> str:
    return payload.replace("--", "/").replace("_", ".")
