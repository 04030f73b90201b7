"""The glossary: how recurring English terms are written in Korean, and whether a translation followed it.
Pure.

A term is `English = 한국어` or `English = 한국어(gloss)`: the Korean rendering, and what goes in
parentheses the first time it appears (the English term itself unless the entry says otherwise; the
PyTorch Korea and d2l-ko convention: 강화학습(reinforcement learning) first, then 강화학습). When a term
occurs in the English abstract, the Korean abstract must contain its rendering, the first occurrence
glossed. A miss is style, not fact: re-asked once, then accepted and counted (bot/translate.py).

Defaults come from config/glossary.toml; admins add and remove terms in chat (/glossary), kept in
Redis on top of the file (`Glossary.with_overrides`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources.abc import Traversable

MAX_ENGLISH = 60
MAX_KOREAN = 60
_ENGLISH_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ -][A-Za-z0-9]+){0,5}")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_AROUND = re.compile(r"[A-Za-z0-9._+-]")  # characters of the token an occurrence is part of


def _squash(text: str) -> str:
    """Lower case, without spaces and hyphens: how terms are compared inside parentheses."""
    return re.sub(r"[\s\-]+", "", text.lower())


_LETTER, _DIGIT, _UPPER = re.compile(r"[A-Za-z]"), re.compile(r"\d"), re.compile(r"[A-Z]")


def is_name(token: str) -> bool:
    """A digit and a letter, or a capital after the first character (`GPT-5`, `AgentFounder`, `HLE`):
    what the gate holds against the paper (bot/faithful.py), and a term inside it is not the term."""
    return _LETTER.search(token) is not None and (
        _DIGIT.search(token) is not None or _UPPER.search(token, 1) is not None
    )


@dataclass(frozen=True)
class Term:
    english: str  # as written in the entry, e.g. "reinforcement learning"
    korean: str  # the rendering, e.g. "강화학습"
    gloss: str  # in parentheses at the first occurrence, e.g. "reinforcement learning" or "large language model, LLM"

    @classmethod
    def parse(cls, english: str, value: str) -> Term:
        korean, _, rest = value.partition("(")
        gloss = rest.rstrip().removesuffix(")").strip() if rest else ""
        return cls(" ".join(english.split()), korean.strip(), gloss or " ".join(english.split()))

    @property
    def first_use(self) -> str:
        return f"{self.korean}({self.gloss})"

    @property
    def entry(self) -> str:
        """The entry as an admin writes it (`/glossary add`): the gloss only when it is not the English."""
        return self.korean if self.gloss == self.english else self.first_use

    @cached_property
    def aliases(self) -> tuple[str, ...]:
        """The English forms any of which the parentheses may hold (squashed)."""
        return tuple({_squash(self.english), *(_squash(p) for p in self.gloss.split(",") if p.strip())})

    @cached_property
    def _in_english(self) -> re.Pattern[str]:
        words = re.split(r"[\s\-]+", self.english.strip())
        body = r"[\s\-]*".join(re.escape(w) for w in words)
        return re.compile(rf"(?<![A-Za-z0-9]){body}(?:e?s)?(?![A-Za-z0-9])", re.IGNORECASE)

    @cached_property
    def first_word(self) -> str:
        return re.split(r"[\s\-]+", self.english.strip().lower())[0]

    @cached_property
    def _in_korean(self) -> re.Pattern[str]:
        chars = [re.escape(c) for c in self.korean if not c.isspace()]
        return re.compile(r"\s*".join(chars))

    def occurs_in(self, english: str) -> bool:
        """Does the English text use the term (plural and hyphen-tolerant; not inside a name such as
        `Reasoning-V1` or `MM-Reasoning`)?"""
        for match in self._in_english.finditer(english):
            start, end = match.start(), match.end()
            while start > 0 and _AROUND.match(english[start - 1]):
                start -= 1
            while end < len(english) and _AROUND.match(english[end]):
                end += 1
            token = english[start:end].strip("._+-")
            if token.lower() == match.group(0).lower() or not is_name(token):
                return True
        return False

    def miss(self, korean_text: str) -> str | None:
        """Why `korean_text` does not follow this term (None when it does)."""
        found = list(self._in_korean.finditer(korean_text))
        if not found:
            return "missing"
        glossed = []
        for match in found:
            after = re.match(r"\s*\(([^)]*)\)", korean_text[match.end() :])
            glossed.append(_squash(after.group(1)) if after else None)
        if glossed[0] is None or not any(g and any(a in g for a in self.aliases) for g in glossed):
            return "unglossed"
        return None


@dataclass(frozen=True)
class Miss:
    term: Term
    why: str  # "missing" or "unglossed"

    def describe(self) -> str:
        if self.why == "missing":
            return f'"{self.term.english}" must be translated as {self.term.korean}, written {self.term.first_use} the first time'
        return f"the first {self.term.korean} must be written {self.term.first_use}"


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    edited: frozenset[str] = field(default_factory=frozenset)  # keys (lower case) changed in chat

    @classmethod
    def from_mapping(cls, entries: Mapping[str, str]) -> Glossary:
        return cls(tuple(sorted((Term.parse(k, v) for k, v in entries.items()), key=lambda t: t.english.lower())))

    @classmethod
    def load(cls, path: Traversable) -> Glossary:
        """config/glossary.toml's [terms]; ValueError with the problem when it is unusable."""
        try:
            with path.open("rb") as fh:
                terms = tomllib.load(fh).get("terms", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the glossary {path}: {exc}") from exc
        if not isinstance(terms, dict) or not all(isinstance(v, str) for v in terms.values()):
            raise ValueError(f'{path}: [terms] must hold "English" = "한국어" pairs')
        for english, korean in terms.items():
            if (problem := entry_problem(english, korean)) is not None:
                raise ValueError(f"{path}: {english!r} = {korean!r}: {PROBLEMS[problem]}")
        return cls.from_mapping(terms)

    def with_overrides(self, overrides: Mapping[str, str]) -> Glossary:
        """The file's terms with the chat's edits on top: a term added or changed, or ("") removed."""
        entries = {t.english.lower(): (t.english, t.entry) for t in self.terms}
        for key, value in overrides.items():
            if value:
                english, _, korean = value.partition("=")
                entries[key] = (english, korean)
            else:
                entries.pop(key, None)
        merged = Glossary.from_mapping(dict(entries.values()))
        return Glossary(merged.terms, frozenset(overrides))

    def find(self, english: str) -> Term | None:
        key = " ".join(english.split()).lower()
        return next((t for t in self.terms if t.english.lower() == key), None)

    def present(self, english: str) -> list[Term]:
        """The terms the English text uses."""
        lowered = english.lower()  # most terms are absent: a substring test first
        return [t for t in self.terms if t.first_word in lowered and t.occurs_in(english)]

    def misses(self, english: str, korean: str) -> list[Miss]:
        """The terms the English text uses that the Korean does not follow."""
        return [Miss(t, why) for t in self.present(english) if (why := t.miss(korean)) is not None]

    @cached_property
    def names(self) -> frozenset[str]:
        """Latin words the glossary itself supplies (lower case): `LLM`, `CoT`, `SOTA` may appear in a
        translation though the abstract spells the term out."""
        return frozenset(w.lower() for t in self.terms for w in _LATIN_WORD.findall(f"{t.english} {t.gloss}"))

    def prompt_block(self) -> str:
        if not self.terms:
            return ""
        lines = [f"- {t.english} → {t.korean} (처음 나올 때: {t.first_use})" for t in self.terms]
        return "## 용어집 (반드시 따를 것)\n" + "\n".join(lines)


PROBLEMS = {  # what is wrong with an entry, in English (the Korean for chats is bot/texts_trust.py)
    "english": f"the English term must be 1-6 Latin words of at most {MAX_ENGLISH} characters",
    "korean": f"the Korean rendering must have 1-{MAX_KOREAN} characters",
    "hangul": "the Korean rendering must be written in Hangul (English in parentheses after it, if any)",
    "parens": "parentheses must close once, at the end: 한국어(English)",
}


def entry_problem(english: str, korean: str) -> str | None:
    """What is wrong with `English = 한국어` as a glossary entry (a key of PROBLEMS), or None."""
    english, korean = " ".join(english.split()), korean.strip()
    if not english or len(english) > MAX_ENGLISH or not _ENGLISH_TERM.fullmatch(english):
        return "english"
    if not korean or len(korean) > MAX_KOREAN:
        return "korean"
    head, paren, rest = korean.partition("(")
    if not any("\uac00" <= c <= "\ud7a3" for c in head):
        return "hangul"
    if paren and (not rest.endswith(")") or "(" in rest or not rest[:-1].strip()):
        return "parens"
    return None


def parse_edit(text: str) -> tuple[str, str] | None:
    """`English = 한국어` as an admin types it; None when there is no `=`."""
    english, sep, korean = text.partition("=")
    if not sep:
        return None
    return " ".join(english.split()), korean.strip()


def override_value(english: str, korean: str) -> str:
    """How an added term is kept in Redis: its English as written, and its rendering."""
    return f"{english}={korean}"


def terms_named(terms: Iterable[Term]) -> str:
    return ", ".join(t.english for t in terms)
