"""Numbers as the gate reads them, pure: each number's value, whether it is a percentage, and the values a
written form may stand for. Used both ways: every number of the abstract must be in the Korean abstract
(`missing`), and every number of the Korean must be one the paper states (`invented`).

- Percentages: `%`, LaTeX's `\\%`, "percent", "percentage point(s)", "pp"; in Korean `%`, `%p`, `퍼센트`.
  A range takes its percent sign from its end: "20-30%", "20~30%".
- Scaled: `1M`, `2.5B`, "3 million" stand for 1,000,000 … as well; Korean `100만`, `25억`, `1억 5천만`
  are read as their values, so `150M` and `1억 5천만` are the same number.
- Spelled: "ten", "twice", "first", "September" are numbers the paper states.
- Not numbers: digits glued to a letter, digit or dot before them (`Qwen2.5`, `GPT4`) are names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER = r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)"
_PERCENT_EN = r"\s*\\?%|\s*percent(?:age)?(?:[\s-]*points?)?\b|\s*per\s*cent\b|\s*pp\b|\s*p\.p\."
_PERCENT_KO = r"\s*(?:%|％)(?:\s*p\b|\s*포인트)?|\s*퍼센트(?:\s*포인트)?"
_EN = re.compile(rf"{_NUMBER}({_PERCENT_EN})?", re.IGNORECASE)
_KO = re.compile(rf"{_NUMBER}({_PERCENT_KO})?")
_RANGE = re.compile(r"\s*(?:~|～|-|–|—|to|에서)\s*", re.IGNORECASE)
_LEADING_DOT = re.compile(r"(?<![A-Za-z0-9.])\.(\d+)")
_SCALED_EN = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|trillion|[KMBT])(?![A-Za-z])")
_KOREAN_TERM = re.compile(r"(\d+(?:\.\d+)?)\s*(천|백)?\s*(조|억|만)?")
_GLUED = re.compile(r"[A-Za-z0-9.]")
_SMALL = {"천": 1000, "백": 100}
_BIG = {"조": 10**12, "억": 10**8, "만": 10**4}
_SCALES = {"k": 10**3, "thousand": 10**3, "m": 10**6, "million": 10**6, "b": 10**9, "billion": 10**9,
           "t": 10**12, "trillion": 10**12}  # fmt: skip

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]  # fmt: skip
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]  # fmt: skip
_WORDS: dict[str, int] = {
    **{w: i for i, w in enumerate(_UNITS)},
    **{w: 20 + 10 * i for i, w in enumerate(_TENS)},
    **{w: i + 1 for i, w in enumerate(_ORDINALS)},
    **{w: i + 1 for i, w in enumerate(_MONTHS) if w != "may"},  # "may" is mostly the verb
    "once": 1, "single": 1, "twice": 2, "double": 2, "doubles": 2, "doubled": 2, "doubling": 2, "both": 2,
    "thrice": 3, "triple": 3, "triples": 3, "tripled": 3, "tripling": 3, "quadruple": 4, "half": 50,
    "dozen": 12, "dozens": 12, "hundred": 100, "hundreds": 100, "thousand": 1000, "thousands": 1000,
    "million": 10**6, "millions": 10**6, "billion": 10**9, "billions": 10**9,
}  # fmt: skip
_WORD = re.compile(r"[a-z]+")


def value(text: str) -> Decimal:
    """A number's value, normalised: 10.0 and 10 are the same."""
    try:
        return Decimal(text).normalize()
    except InvalidOperation:  # cannot happen for what the patterns match
        return Decimal(-1)


@dataclass(frozen=True)
class Number:
    text: str
    value: Decimal
    percent: bool
    start: int = 0  # where it is in the text without thousands separators
    inherited: bool = False  # a range's start, a percentage by its end's sign ("20-30%")

    def __str__(self) -> str:
        return self.text + ("%" if self.percent else "")


@lru_cache(maxsize=64)  # the gate reads each text more than once (both ways, and for the names)
def numbers(text: str, *, korean: bool) -> tuple[Number, ...]:
    """The numbers of a text in order, each with whether it is a percentage (a range's start takes its
    end's sign)."""
    text = _plain(text)
    matches = list((_KO if korean else _EN).finditer(text))
    found = [Number(m.group(1), value(m.group(1)), bool(m.group(2)), m.start(1)) for m in matches]
    for i in range(len(found) - 1):
        between = text[matches[i].end() : matches[i + 1].start()]
        if not found[i].percent and found[i + 1].percent and _RANGE.fullmatch(between):
            found[i] = Number(found[i].text, found[i].value, True, found[i].start, inherited=True)
    return tuple(found)


@lru_cache(maxsize=64)
def _plain(text: str) -> str:
    """The text without thousands separators (1,000 is 1000)."""
    return _THOUSANDS.sub("", text)


@lru_cache(maxsize=64)
def _scaled(text: str) -> dict[int, Decimal]:
    """Where a number with a scale stands (1M, 3 million), and the value it stands for."""
    return {
        m.start(1): (Decimal(m.group(1)) * _SCALES[m.group(2).lower()]).normalize()
        for m in _SCALED_EN.finditer(_plain(text))
    }


@lru_cache(maxsize=64)
def _korean_values(text: str) -> tuple[tuple[str, frozenset[Decimal]], ...]:
    """Each number of the Korean as written, with every value it may stand for: itself, its term with
    a Korean unit (5천만 = 50,000,000), and the run of terms it is part of (1억 5천만 = 150,000,000)."""
    text = _plain(text)
    terms = []  # (digits, term value, start, end, has a big unit)
    for m in _KOREAN_TERM.finditer(text):
        if m.start() > 0 and _GLUED.match(text[m.start() - 1]):
            continue  # glued to a name
        term = Decimal(m.group(1)) * _SMALL.get(m.group(2) or "", 1) * _BIG.get(m.group(3) or "", 1)
        terms.append((m.group(1), term.normalize(), m.start(), m.end(), bool(m.group(3))))
    found: list[tuple[str, set[Decimal]]] = []
    run: list[int] = []
    for i, (digits, term, start, _, _) in enumerate(terms):
        joined = run and terms[run[-1]][4] and not text[terms[run[-1]][3] : start].strip()
        run = [*run, i] if joined else [i]
        total = sum((terms[j][1] for j in run), Decimal(0)).normalize()
        found.append((digits, {value(digits), term, total}))
        for j in run[:-1]:  # the run's earlier numbers may stand for its total too
            found[j][1].add(total)
    return tuple((digits, frozenset(values)) for digits, values in found)


@lru_cache(maxsize=64)
def stated(source: str) -> frozenset[Decimal]:
    """Every value the English source states: in digits (and scaled: 1M), spelled, or as `.5`."""
    text = _plain(source)
    values = {n.value for n in numbers(source, korean=False)}
    values |= {value("0." + m) for m in _LEADING_DOT.findall(text)}
    values |= set(_scaled(source).values())
    words = _WORD.findall(text.lower())
    for i, word in enumerate(words):
        if word in _WORDS:
            values.add(Decimal(_WORDS[word]))
            if word in _TENS and i + 1 < len(words) and words[i + 1] in _UNITS[1:10]:  # twenty-five
                values.add(Decimal(_WORDS[word] + _WORDS[words[i + 1]]))
    return frozenset(values)


def missing(source: str, korean: str) -> list[str]:
    """The numbers of the source that the Korean lost (a percentage must stay one, but a range's start
    may be written plain: "20-30%" as "20~30%" or "20, 30%"; a scaled number may be written in Korean
    units: 1M as 100만)."""
    written = numbers(korean, korean=True)
    percents = {n.value for n in written if n.percent}
    plain = {v for _, vs in _korean_values(korean) for v in vs}
    scaled = _scaled(source)
    lost = set()
    for number in numbers(source, korean=False):
        if number.percent and not number.inherited:
            ok = number.value in percents
        else:
            ok = number.value in plain or scaled.get(number.start, Decimal(-1)) in plain
        if not ok:
            lost.add(str(number))
    return sorted(lost)


def invented(values: frozenset[Decimal], korean: str) -> str | None:
    """The first number of the Korean that stands for no value the source states, if any."""
    for digits, candidates in _korean_values(korean):
        if not candidates & values:
            return digits
    return None
