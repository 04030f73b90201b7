"""Pure parsing for bot/sources/fulltext.py: Hugging Face's markdown and arXiv's HTML (LaTeXML) into
sections, and the rules that choose which sections are kept within the cap. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag
from bs4.filter import SoupStrainer

from bot.models import Figure

CAP = 60_000  # characters of titles and text kept of a paper: ample for a brief, bounded for Claude's context
MIN_MARKDOWN = 2_000  # a `.md` shorter than this (or without section headings) is a stub: title and abstract
APPENDIX_MAX = 4_000  # an appendix longer than this is dropped whole (proofs, prompts, tables of numbers)
FIGURES = "Figure and table captions"

_CORE = ("abstract", "introduction", "method", "approach", "experiment", "evaluation", "result", "limitation",
         "conclusion", "discussion", "analysis")  # fmt: skip
_DROPPED = ("reference", "bibliograph", "acknowledg", "author contribution")
# Markdown headings: a line-based format, so a line pattern (fenced code skipped) is its grammar; HTML is
# never parsed this way (BeautifulSoup below).
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SECTION_TAG = re.compile(r"^[A-Z]?(\d+(\.\d+)*)?\.?\s+")  # "3 ", "A.1 ", "B " before a section's name


class Rank(IntEnum):
    """Which sections the cap keeps first (the paper's order is kept in the result)."""

    CORE = 0  # abstract, introduction, method, experiments, results, limitations, conclusion
    OTHER = 1  # related work, background, a method's own name …
    APPENDIX = 2  # short appendices
    CAPTIONS = 3  # the figures' and tables' captions, apart from the text


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    rank: Rank

    @property
    def chars(self) -> int:
        return len(self.title) + len(self.text)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _name(title: str) -> str:
    return _SECTION_TAG.sub("", title).strip().lower()


def _rank(title: str, *, appendix: bool) -> Rank | None:
    """None: dropped (references, acknowledgements)."""
    name = _name(title)
    if any(word in name for word in _DROPPED):
        return None
    if appendix or name.startswith("appendix") or name.startswith("supplementary"):
        return Rank.APPENDIX
    return Rank.CORE if any(word in name for word in _CORE) else Rank.OTHER


def _keep(title: str, text: str, *, appendix: bool) -> Section | None:
    rank = _rank(title, appendix=appendix)
    if rank is None or not text or (rank is Rank.APPENDIX and len(text) > APPENDIX_MAX):
        return None
    return Section(title, text, rank)


def markdown_sections(body: str) -> list[Section] | None:
    """Sections of Hugging Face's `/papers/{id}.md` (split at `#` and `##` headings; deeper headings stay
    in the text), or None when it is a stub or a page shell (HTML, too short, no section headings)."""
    if body.lstrip().startswith("<") or len(body) < MIN_MARKDOWN:
        return None
    raw: list[tuple[str, list[str]]] = []
    fenced = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading and len(heading.group(1)) <= 2:
            raw.append((heading.group(2).strip(), []))
        elif raw:
            raw[-1][1].append(line)
    if sum(1 for _, lines in raw if "".join(lines).strip()) < 2:
        return None
    sections, after_references = [], False
    for title, lines in raw:
        paragraphs = "\n".join(lines).replace("\r", "").split("\n\n")
        text = "\n\n".join(p.strip() for p in paragraphs if p.strip())
        if section := _keep(title, text, appendix=after_references):
            sections.append(section)
        after_references = after_references or any(w in _name(title) for w in ("reference", "bibliograph"))
    return sections or None


def _blocks(section: Tag) -> str:
    """A LaTeXML section's paragraphs and subsection titles, in order, one paragraph each."""
    parts: list[str] = []
    for element in section.find_all(["p", "h3", "h4", "h5", "h6"]):
        if element.find_parent("p") is not None:  # figures are gone already (arxiv_sections)
            continue
        if (text := _clean(element.get_text(" "))) and text not in parts[-1:]:
            parts.append(text)
    return "\n\n".join(parts)


def arxiv_sections(body: str) -> list[Section] | None:
    """Sections of an arXiv HTML paper (LaTeXML's markup: `.ltx_abstract`, `section.ltx_section`,
    `section.ltx_appendix`, `section.ltx_bibliography`, `figure` with `figcaption`), or None when the page
    has no sections (arXiv's "no HTML for this paper" page, a failed conversion). Math becomes its LaTeX
    (alttext); figures and tables leave the text, their captions kept apart; footnotes go."""
    return arxiv_page(body, "")[0]


def arxiv_page(body: str, url: str) -> tuple[list[Section] | None, Figure | None]:
    """One parse of an arXiv HTML paper: its sections (as `arxiv_sections`) and its first figure (as
    `first_figure`; `url` is the page's address after redirects, "" for none)."""
    soup = BeautifulSoup(body, "html.parser")
    for math in soup.find_all("math"):
        math.replace_with(f" {math.get('alttext') or math.get_text(' ')} ")
    figure = first_figure(soup, url) if url else None
    captions = []
    for element in soup.find_all("figure"):
        if element.find_parent("figure") is None and (caption := element.find("figcaption")) is not None:
            captions.append(_clean(caption.get_text(" ")))
        element.decompose()
    for junk in soup.select(".ltx_note, .ltx_authors, script, style, nav, header, footer"):
        junk.decompose()
    sections: list[Section] = []
    abstract = soup.select_one(".ltx_abstract")
    if abstract is not None:
        if (abstract_title := abstract.find(["h1", "h2", "h3", "h4", "h5", "h6"])) is not None:
            abstract_title.decompose()
        if text := "\n\n".join(_clean(p.get_text(" ")) for p in abstract.find_all("p")):
            sections.append(Section("Abstract", text, Rank.CORE))
    body_sections = 0
    for section in soup.find_all("section"):
        if section.find_parent("section") is not None:
            continue
        heading = section.find(["h1", "h2", "h3", "h4", "h5", "h6"])
        if heading is None:
            continue
        title = _clean(heading.get_text(" "))
        heading.decompose()
        classes = section.get_attribute_list("class")
        if "ltx_bibliography" in classes:
            continue
        body_sections += 1
        if kept := _keep(title, _blocks(section), appendix="ltx_appendix" in classes):
            sections.append(kept)
    if not body_sections:
        return None, figure
    if captions:
        sections.append(Section(FIGURES, "\n\n".join(c for c in captions if c), Rank.CAPTIONS))
    return sections, figure


def arxiv_figure(body: str, url: str) -> Figure | None:
    """The first figure of an arXiv HTML paper, parsing only its `<figure>` and `<base>` elements (a
    paper whose text came from elsewhere: arXiv's HTML is fetched for its figure alone)."""
    soup = BeautifulSoup(body, "html.parser", parse_only=SoupStrainer(["figure", "base"]))
    for math in soup.find_all("math"):
        math.replace_with(f" {math.get('alttext') or math.get_text(' ')} ")
    return first_figure(soup, url)


def first_figure(soup: BeautifulSoup, url: str) -> Figure | None:
    """The first top-level `<figure>` that is not a table and has an `<img src>`: its image's absolute
    URL and its caption (math already turned into LaTeX by the caller). The src is relative to the page:
    arXiv's `<base href>` when the page has one, else the page's final URL (after arXiv's redirect to the
    versioned address, `/html/2509.13310v1`) taken as a folder, so `x1.png` is `/html/2509.13310v1/x1.png`.
    Only http(s) URLs count (a `data:` or `javascript:` src is skipped)."""
    base = url if url.endswith("/") else f"{url}/"
    if isinstance(tag := soup.find("base", href=True), Tag):
        base = urljoin(base, str(tag["href"]))
    for figure in soup.find_all("figure"):
        classes = figure.get_attribute_list("class")
        if figure.find_parent("figure") is not None or "ltx_table" in classes:
            continue
        image = figure.find("img", src=True)
        if not isinstance(image, Tag):
            continue
        address = urljoin(base, str(image["src"]).strip())
        if urlsplit(address).scheme not in ("http", "https"):
            continue
        caption = figure.find("figcaption", recursive=False) or figure.find("figcaption")
        return Figure(address, _clean(caption.get_text(" ")) if isinstance(caption, Tag) else "")
    return None


def within_cap(sections: list[Section], cap: int = CAP) -> tuple[tuple[tuple[str, str], ...], bool]:
    """The sections kept within `cap` characters, whole, in the paper's order, and whether any was left
    out: the core ones first, then the others, short appendices, captions. A first core section larger
    than the cap alone is cut at a paragraph (it is all there is to go on)."""
    chosen: set[int] = set()
    left = cap
    truncated = False
    for index in sorted(range(len(sections)), key=lambda i: (sections[i].rank, i)):
        section = sections[index]
        if section.chars <= left:
            chosen.add(index)
            left -= section.chars
        else:
            truncated = True
    kept = [(s.title, s.text) for i, s in enumerate(sections) if i in chosen]
    if not kept and sections:
        first = min(sections, key=lambda s: s.rank)  # the first of the best rank
        text = ""
        for paragraph in first.text.split("\n\n"):
            if len(first.title) + len(text) + len(paragraph) + 2 > cap:
                break
            text = f"{text}\n\n{paragraph}" if text else paragraph
        kept = [(first.title, text or first.text[: max(0, cap - len(first.title))])]
    return tuple(kept), truncated
