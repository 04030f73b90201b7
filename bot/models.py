"""The digest's data: frozen dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.week import IsoWeek

HF_SITE = "https://huggingface.co"


@dataclass(frozen=True)
class Paper:
    id: str  # arXiv id, e.g. "2509.13310"
    title: str
    abstract: str
    upvotes: int

    @property
    def hf_url(self) -> str:
        return f"{HF_SITE}/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"


@dataclass(frozen=True)
class Translation:
    title_ko: str
    summary_ko: str
    abstract_ko: str


class Status(StrEnum):
    TRANSLATED = "translated"
    PENDING = "pending"  # translation failed or not yet done
    UNTRANSLATED = "untranslated"  # translation not asked for (--no-translate)


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


@dataclass(frozen=True)
class Subscription:
    """A chat that receives the weekly digest. Kept (inactive) when the bot is blocked or removed."""

    chat_id: int
    kind: ChatKind
    title: str
    active: bool
    since: datetime
    updated: datetime
    thread_id: int | None = None  # forum topic the digest goes to
    by_user: int | None = None  # who subscribed it


@dataclass(frozen=True)
class Snapshot:
    """A week's ranking as fetched once: the first build freezes it."""

    week: IsoWeek
    papers: tuple[Paper, ...]  # sorted by upvotes, best first
    fetched_at: datetime
    source_url: str


@dataclass(frozen=True)
class DigestItem:
    rank: int
    paper: Paper
    translation: Translation | None
    status: Status


@dataclass(frozen=True)
class Digest:
    week: IsoWeek
    start: date
    end: date
    source_url: str
    fetched_at: datetime
    items: tuple[DigestItem, ...]

    @property
    def pending(self) -> tuple[DigestItem, ...]:
        return tuple(item for item in self.items if item.status is Status.PENDING)


@dataclass(frozen=True)
class Usage:
    """Claude tokens spent (per digest week, or per week in which they were spent)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True)
class Hold:
    """A publish held by the source gate: retried every 30 minutes until `gave_up`."""

    since: datetime
    last: datetime
    reason: str
    gave_up: bool = False


@dataclass(frozen=True)
class HealRecord:
    """A sent week with pending translations: retranslated, then its messages edited in place."""

    since: datetime
    attempts: int = 0
    papers: int = 0


def week_page_url(week: IsoWeek) -> str:
    """The public week page: what readers are pointed to, whatever base URL we fetch from."""
    return f"{HF_SITE}/papers/week/{week}"
