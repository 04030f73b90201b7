"""The digest's data: frozen dataclasses, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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
    github_repo: str | None = None  # the code repository Hugging Face links (an http(s) URL)
    github_stars: int | None = None  # its stars when the week was fetched
    project_page: str | None = None  # the project page Hugging Face links (an http(s) URL)
    # The authors' names as Hugging Face lists them (the web pages name them: bot/web/pages.py); not part
    # of a paper's identity or equality (snapshots frozen before they were kept have none).
    authors: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.authors, tuple):  # read back from JSON as a list
            object.__setattr__(self, "authors", tuple(self.authors))

    @property
    def hf_url(self) -> str:
        return f"{HF_SITE}/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"


@dataclass(frozen=True)
class Figure:
    """A paper's first figure as arXiv's HTML shows it: the image's absolute http(s) URL and the English
    caption ("" when it has none)."""

    url: str
    caption: str


@dataclass(frozen=True)
class FullText:
    """A paper's body as bot/sources/fulltext.py found it: its sections in the paper's order."""

    paper_id: str
    source: str  # "hf_md" (Hugging Face's markdown), "arxiv_html" (arXiv's HTML) or "abstract" (nothing more found)
    sections: tuple[tuple[str, str], ...]  # (title, text)
    truncated: bool  # sections were left out (or the last one cut) to stay within the cap
    fetched_at: datetime
    figure: Figure | None = None  # the first figure with an image, when the text came from arXiv's HTML

    @property
    def chars(self) -> int:
        return sum(len(title) + len(text) for title, text in self.sections)


@dataclass(frozen=True)
class Brief:
    """A deep brief (심층 요약) of a paper, written by Claude from its full text (bot/brief.py): four
    parts of 2–4 Korean sentences each, and what it was written from."""

    problem: str  # 문제: what problem, why it matters
    method: str  # 방법: what they did
    results: str  # 결과: the main results, with the paper's own numbers
    limitations: str  # 한계: the limitations the paper states ("논문에 밝힌 한계 없음" when none)
    source: str  # the full text's source: "hf_md", "arxiv_html" or "abstract" (only the abstract was had)
    model: str = ""
    made_at: datetime | None = None


@dataclass(frozen=True)
class Translation:
    title_ko: str
    summary_ko: str
    abstract_ko: str
    model: str = ""  # the Claude model that wrote it ("" in translations cached before provenance was kept)
    translated_at: datetime | None = None
    corrected_at: datetime | None = None  # set by an admin's correction (/retranslate)


class Status(StrEnum):
    TRANSLATED = "translated"
    PENDING = "pending"  # translation failed or not yet done
    UNTRANSLATED = "untranslated"  # translation not asked for (--no-translate)
    NO_ABSTRACT = "no_abstract"  # an abstract too short or a placeholder: nothing to translate or summarise


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class Form(StrEnum):
    """How much of each paper a digest shows."""

    BRIEF = "brief"  # numbered Korean titles with links, one message
    SUMMARY = "summary"  # titles, links and the 2–3 sentence summary (the default)
    FULL = "full"  # the summary and the whole Korean abstract, over as many messages as needed


COUNTS = (5, 10, 20)  # papers per digest a chat may choose
MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 40
DEFAULT_SLOT = "default"  # the global `schedule`
ALL_SLOT_KEYS = (DEFAULT_SLOT, *(f"{day}-{hour:02d}" for day in range(7) for hour in range(24)))


@dataclass(frozen=True)
class View:
    """What a digest looks like for a chat: everything rendering needs of its settings. Chats with the
    same view get the same messages (one render per view per week)."""

    form: Form = Form.SUMMARY
    count: int = 10
    english: bool = True
    topics: tuple[str, ...] = ()
    only_topics: bool = False

    @property
    def key(self) -> str:
        """A short name of the view, stable across processes (the ledger records it per chat)."""
        topics = hashlib.sha256("\n".join(self.topics).encode()).hexdigest()[:10] if self.topics else "-"
        only = "only" if self.only_topics and self.topics else "all"
        return f"{self.form}.{self.count}.{'en' if self.english else 'ko'}.{only}.{topics}"


@dataclass(frozen=True)
class ChatSettings:
    """A chat's own digest (/settings). Kept when the chat unsubscribes or blocks the bot."""

    count: int | None = None  # papers per digest; None: the `top_n` setting
    day: int | None = None  # 0 Monday … 6 Sunday, with `hour`; None: the global `schedule`
    hour: int | None = None
    form: Form = Form.SUMMARY
    english: bool = True  # the English title under the Korean one
    topics: tuple[str, ...] = ()
    only_topics: bool = False  # only papers that match a topic (among the week's top 50)
    paused: bool = False

    @property
    def slot(self) -> str:
        """The weekly slot the chat's digest is sent in: `DEFAULT_SLOT`, or `<day>-<hour>`."""
        return DEFAULT_SLOT if self.day is None or self.hour is None else f"{self.day}-{self.hour:02d}"

    def view(self, top_n: int) -> View:
        return View(self.form, self.count or top_n, self.english, self.topics, self.only_topics and bool(self.topics))


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
    """A sent week with pending translations: retranslated; the editor brings its messages up to date."""

    since: datetime
    attempts: int = 0
    papers: int = 0
    indexed: bool = False  # its messages are in the paper→message index (False: sent before there was one)


class ReportReason(StrEnum):
    """What a reader says is wrong with a translation (the four buttons)."""

    MISTRANSLATION = "mis"  # 오역
    TERM = "term"  # 용어
    FACT = "fact"  # 사실과 다름
    OTHER = "other"  # 기타


@dataclass(frozen=True)
class ReaderReport:
    """A reader's report of a wrong translation: one open report per person and paper."""

    paper_id: str
    user_id: int
    chat_id: int  # where the report was made (a private chat)
    reason: ReportReason
    at: datetime
    week: str = ""  # the week the paper was ranked in, when it was
    comment: str = ""


def week_page_url(week: IsoWeek) -> str:
    """The public week page: what readers are pointed to, whatever base URL we fetch from."""
    return f"{HF_SITE}/papers/week/{week}"
