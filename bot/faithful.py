"""The faithfulness gate: nothing Claude writes reaches a reader unless every name and number it wrote
is in the paper, and it is Korean throughout. Pure; tested by tables (tests/test_faithful.py).

- Names: every Latin token in title_ko, summary_ko and abstract_ko that looks like a name (a digit
  and a letter, an inner capital, or two or more capitals: `GPT-5`, `AgentFounder`, `BrowseComp-en`,
  `Qwen3`, `HLE`) occurs in the English title or abstract (case-, hyphen- and plural-tolerant), or is
  a word the glossary supplies (`LLM`, `CoT`). A number with a unit (`30B`, `2.5x`, `3D`) is a number.
- Numbers (bot/numbers.py): every number of the Korean text is a number of the source, by value:
  written in digits, spelled (`ten` → 10, `twice` → 2, `September` → 9), or scaled (`1M` → `100만`).
- One script: no letters of a script the source lacks (Chinese characters, kana, Cyrillic …); Greek
  letters when the source names them (`$\\alpha$`, "alpha").
- No drift: no sentence of eight or more English words without a Hangul syllable in it.
- A source worth summarising: an abstract under 100 characters, or a placeholder, is not sent to
  Claude at all (`unsummarisable`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cached_property

from bot.glossary import Glossary, is_name
from bot.models import Paper, Translation
from bot.numbers import invented, stated
from bot.validate import Rejected, validate

MIN_ABSTRACT = 100  # characters: below this there is nothing to summarise
DRIFT_WORDS = 8  # English words in a sentence with no Hangul at all: the translation drifted
FIELDS = ("title_ko", "summary_ko", "abstract_ko")

_PLACEHOLDER = re.compile(
    r"\W*(?:no abstract(?: available| provided)?|abstract (?:is )?not available|not available|n/?a|tbd|tba|"
    r"coming soon|abstract|none|null|placeholder|the abstract will be (?:available|added) (?:soon|later))\W*",
    re.IGNORECASE,
)
_WITHDRAWN = re.compile(
    r"\W*(?:this (?:paper|article|submission|manuscript) (?:has been|was|is) withdrawn|withdrawn\b|paper withdrawn)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9](?:[A-Za-z0-9._+-]*[A-Za-z0-9+])?")
_UNIT_NUMBER = re.compile(r"(\d+(?:\.\d+)?)(?:x|[KMBTG]B?|[kmg]|ms|s|h|d|D|p|fps|Hz|B)", re.ASCII)
_SENTENCE = re.compile(r"(?<=[.!?。])\s+|\n+")
_WORD = re.compile(r"[A-Za-z]{2,}")

# Greek letters the source names (LaTeX or words): a Korean translation may write them as letters.
_GREEK_NAMES = re.compile(
    r"(?<![A-Za-z])\\?(?:alpha|beta|gamma|delta|epsilon|zeta|theta|iota|kappa|lambda|sigma|upsilon|omega|"
    r"varepsilon|vartheta|varphi|phi|psi|tau|rho|mu|nu|xi|chi|eta|pi)(?![A-Za-z])",
    re.IGNORECASE,
)


def unsummarisable(paper: Paper) -> str | None:
    """Why the paper's abstract is not worth a summary (None when it is): nothing is asked of Claude."""
    abstract = paper.abstract.strip()
    if len(abstract) < MIN_ABSTRACT:
        return f"the abstract has {len(abstract)} characters (under {MIN_ABSTRACT})"
    if _PLACEHOLDER.fullmatch(abstract) or (_WITHDRAWN.match(abstract) and len(abstract) < 400):
        return "the abstract is a placeholder"
    return None


def gate(paper: Paper, message: object, glossary: Glossary) -> Translation:
    """Claude's answer as a translation that passed every check, or Rejected with the reason."""
    translation = validate(paper, message)
    check(paper, translation, glossary)
    return translation


def check(paper: Paper, translation: Translation, glossary: Glossary) -> None:
    """Rejected when the translation names, numbers or writes what the paper does not."""
    fields = {field: getattr(translation, field) for field in FIELDS}
    _check(f"{paper.title}\n{paper.abstract}", fields, glossary, "the paper's title and abstract do not contain")


def check_text(source: str, fields: Mapping[str, str], glossary: Glossary) -> None:
    """Rejected when any of `fields` (name → Korean text) names, numbers or writes what `source` (the
    English it was written from: a figure's caption, a paper's text) does not: the checks of `check`.
    A field named `title_ko` is exempt from the drift check (a title may be mostly a name)."""
    _check(source, fields, glossary, "the source does not contain")


def _check(source: str, fields: Mapping[str, str], glossary: Glossary, lacks: str) -> None:
    known, values, scripts = _Names(source), stated(source), _scripts(source)
    for field, text in fields.items():
        if (name := _invented_name(text, known, glossary.names)) is not None:
            raise Rejected("invented_name", f'{field} mentions "{name}", which {lacks}')
        if (number := invented(values, text)) is not None:
            raise Rejected(
                "changed_number",
                f"{field} has the number {number}, which {lacks} (keep every number exactly as the paper writes it)",
            )
        if (foreign := _foreign_script(text, scripts)) is not None:
            script, sample = foreign
            raise Rejected("foreign_script", f'{field} contains {script} characters ("{sample}"): write Korean only')
        if field != "title_ko" and (sentence := _drift(text)) is not None:
            raise Rejected("english_drift", f'{field} drifts into English: "{sentence[:80]}" is not translated')


# --- names -----------------------------------------------------------------------------------------


def _forms(word: str) -> tuple[str, ...]:
    """A lower-case word as a name may be written: as is, without hyphens, singular."""
    bare = word.replace("-", "").replace("_", "")
    forms = [word, bare]
    for form in (word, bare):
        if form.endswith("s") and len(form) > 2:
            forms.append(form[:-1])
            if form.endswith("es") and len(form) > 3:
                forms.append(form[:-2])
    return tuple(forms)


class _Names:
    """The names of the source, and every form one may take in a translation: its tokens, their
    hyphen-separated parts and runs of parts, adjacent tokens joined (`Gemini 2.5 Pro` → `gemini2.5pro`).
    The common forms are a set; runs and joins are looked for only for a name the set lacks."""

    def __init__(self, source: str) -> None:
        self.written = _TOKEN.findall(source)
        self.tokens = [t.lower() for t in self.written]
        self.known: set[str] = set(self.tokens)
        for token in self.tokens:
            if "-" in token or "_" in token:
                self.known.add(token.replace("-", "").replace("_", ""))
                self.known.update(re.split(r"[-_]", token))

    def __contains__(self, name: str) -> bool:
        forms = _forms(name.lower())
        if any(f in self.known or f + "s" in self.known or f + "es" in self.known for f in forms):
            return True
        bare = {f.replace("-", "") for f in forms}
        for token in self.tokens:  # a run of a token's parts: "Qwen2.5-VL" of "Qwen2.5-VL-7B-Instruct"
            if token.count("-") >= 2 and any(f in token.replace("-", "") for f in bare):
                parts = token.split("-")
                runs = {"".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}
                if bare & runs:
                    return True
        return any(f in self.joined for f in bare)

    @cached_property
    def joined(self) -> set[str]:
        """Two and three adjacent tokens run together, without hyphens, from a token that could begin a
        name (a capital or a digit first: `Gemini 2.5 Pro`, not `the model is`)."""
        starts = [i for i, t in enumerate(self.written) if t[0].isupper() or t[0].isdigit()]
        return {"".join(self.tokens[i : i + n]).replace("-", "") for n in (2, 3) for i in starts}


def _invented_name(text: str, known: _Names, glossary_words: frozenset[str]) -> str | None:
    for token in _TOKEN.findall(text):
        if not is_name(token) or _UNIT_NUMBER.fullmatch(token):
            continue
        if token not in known and not any(f in glossary_words for f in _forms(token.lower())):
            return str(token)
    return None


# --- scripts and drift -----------------------------------------------------------------------------

_ALWAYS = ("MATHEMATICAL", "MICRO", "DOUBLE-STRUCK", "SCRIPT", "BLACK-LETTER", "PLANCK", "ANGSTROM", "OHM",
           "KELVIN", "CIRCLED", "PARENTHESIZED", "SUPERSCRIPT", "SUBSCRIPT", "MODIFIER")  # fmt: skip


def script_of(ch: str) -> str | None:
    """The script of a letter ("hangul", "latin", "han", "kana", "cyrillic", …); None for symbols."""
    code = ord(ch)
    if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if ch.isascii() or 0xC0 <= code <= 0x24F or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    name = unicodedata.name(ch, "")
    if not name or name.startswith(_ALWAYS):
        return None
    if name.startswith("CJK") or "IDEOGRAPH" in name:
        return "han"
    if "HIRAGANA" in name or "KATAKANA" in name:
        return "kana"
    if name.startswith(("FULLWIDTH LATIN", "HALFWIDTH")):
        return "latin" if "LATIN" in name else "kana"
    return name.split()[0].lower()


_OUTSIDE = re.compile(r"[^\x00-\x7F\uAC00-\uD7A3]")  # characters that are neither ASCII nor Hangul syllables


def _scripts(text: str) -> set[str]:
    found = {s for ch in set(_OUTSIDE.findall(text)) if ch.isalpha() and (s := script_of(ch)) is not None}
    return found | ({"greek"} if _GREEK_NAMES.search(text) else set())


def _foreign_script(text: str, allowed: set[str]) -> tuple[str, str] | None:
    for match in _OUTSIDE.finditer(text):
        ch = match.group(0)
        if ch.isalpha() and (script := script_of(ch)) not in (None, "hangul", "latin") and script not in allowed:
            i = match.start()
            return script, text[max(0, i - 4) : i + 5]
    return None


def _drift(text: str) -> str | None:
    for sentence in _SENTENCE.split(text):
        if len(_WORD.findall(sentence)) >= DRIFT_WORDS and not any("\uac00" <= c <= "\ud7a3" for c in sentence):
            return sentence.strip()
    return None
