"""Pure parsing for bot/sources/fulltext.py: Hugging Face's markdown and arXiv's HTML (LaTeXML) into
sections and the first figure, and the rules that choose which sections are kept within the cap. No I/O.

arXiv's HTML is parsed with lxml (its HTML parser, libxml2): BeautifulSoup's tree building took 150–450 ms
of CPU for a 100–400 KB paper, lxml takes a few (python -m bench.fulltext)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from bot.models import Figure

CAP = 60_000  # characters of titles and text kept of a paper: ample for a brief, bounded for Claude's context
MIN_MARKDOWN = 2_000  # a `.md` shorter than this (or without section headings) is a stub: title and abstract
APPENDIX_MAX = 4_000  # an appendix longer than this is dropped whole (proofs, prompts, tables of numbers)
FIGURES = "Figure and table captions"

_CORE = ("abstract", "introduction", "method", "approach", "experiment", "evaluation", "result", "limitation",
         "conclusion", "discussion", "analysis")  # fmt: skip
_DROPPED = ("reference", "bibliograph", "acknowledg", "author contribution")
# Markdown headings: a line-based format, so a line pattern (fenced code skipped) is its grammar; HTML is
# never parsed this way (lxml below).
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
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


def _text(element: HtmlElement) -> str:
    """An element's text, its pieces joined by spaces (as one reads it: `<sup>2</sup>` apart), cleaned."""
    return _clean(" ".join(element.itertext()))


def _classes(element: HtmlElement) -> list[str]:
    return str(element.get("class", "")).split()


def _inside(element: HtmlElement, tag: str) -> bool:
    return next(element.iterancestors(tag), None) is not None


def _replace_with_text(element: HtmlElement, text: str) -> None:
    """Put `text` where `element` was (its tail kept after it)."""
    text += element.tail or ""
    previous, parent = element.getprevious(), element.getparent()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    elif parent is not None:
        parent.text = (parent.text or "") + text
    if parent is not None:
        parent.remove(element)


def _math_as_tex(root: HtmlElement) -> None:
    for math in list(root.iter("math")):
        if not _inside(math, "math"):
            _replace_with_text(math, f" {math.get('alttext') or ' '.join(math.itertext())} ")


def _blocks(section: HtmlElement) -> str:
    """A LaTeXML section's paragraphs and subsection titles, in order, one paragraph each."""
    parts: list[str] = []
    for element in section.iter("p", "h3", "h4", "h5", "h6"):
        if _inside(element, "p"):  # figures are gone already (arxiv_page)
            continue
        if (text := _text(element)) and text not in parts[-1:]:
            parts.append(text)
    return "\n\n".join(parts)


def _parse(body: str) -> HtmlElement | None:
    """The page's tree (lxml's HTML parser: a 400 KB paper in a few milliseconds), None for no document."""
    try:
        return lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return None


def arxiv_page(body: str, url: str) -> tuple[list[Section] | None, Figure | None]:
    """One parse of an arXiv HTML paper: its sections and its first figure (`first_figure`; `url` is the
    page's address after redirects, "" for none). Sections follow LaTeXML's markup (`.ltx_abstract`,
    `section.ltx_section`, `section.ltx_appendix`, `section.ltx_bibliography`, `figure` with
    `figcaption`); None when the page has none (arXiv's "no HTML for this paper" page, a failed
    conversion). Math becomes its LaTeX (alttext); figures and tables leave the text, their captions
    kept apart; footnotes go."""
    root = _parse(body)
    if root is None:
        return None, None
    _math_as_tex(root)
    figure = first_figure(root, url) if url else None
    captions = []
    for element in list(root.iter("figure")):
        if _inside(element, "figure"):
            continue  # goes with the figure it is in
        if (caption := next(element.iter("figcaption"), None)) is not None:
            captions.append(_text(caption))
        element.drop_tree()
    for junk in list(root.iter("script", "style", "nav", "header", "footer", "span", "div")):
        if junk.tag in ("span", "div") and not {"ltx_note", "ltx_authors"} & set(_classes(junk)):
            continue
        if junk.getparent() is not None:
            junk.drop_tree()
    sections: list[Section] = []
    abstract = next((e for e in root.iter() if "ltx_abstract" in _classes(e)), None)
    if abstract is not None:
        if (abstract_title := next(abstract.iter(*_HEADINGS), None)) is not None:
            abstract_title.drop_tree()
        if text := "\n\n".join(_text(p) for p in abstract.iter("p")):
            sections.append(Section("Abstract", text, Rank.CORE))
    body_sections = 0
    for section in list(root.iter("section")):
        if _inside(section, "section"):
            continue
        heading = next(section.iter(*_HEADINGS), None)
        if heading is None:
            continue
        title = _text(heading)
        heading.drop_tree()
        classes = _classes(section)
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
    """The first figure of an arXiv HTML paper (a paper whose text came from elsewhere: arXiv's HTML is
    fetched for its figure alone)."""
    root = _parse(body)
    if root is None:
        return None
    _math_as_tex(root)
    return first_figure(root, url)


def first_figure(root: HtmlElement, url: str) -> Figure | None:
    """The first top-level `<figure>` that is not a table and has an `<img src>`: its image's absolute
    URL and its caption (math already turned into LaTeX by the caller). The src is relative to the page:
    arXiv's `<base href>` when the page has one, else the page's final URL (after arXiv's redirect to the
    versioned address, `/html/2509.13310v1`) taken as a folder, so `x1.png` is `/html/2509.13310v1/x1.png`.
    Only http(s) URLs count (a `data:` or `javascript:` src is skipped)."""
    base = url if url.endswith("/") else f"{url}/"
    if (tag := next((b for b in root.iter("base") if b.get("href")), None)) is not None:
        base = urljoin(base, str(tag.get("href")))
    for figure in root.iter("figure"):
        if _inside(figure, "figure") or "ltx_table" in _classes(figure):
            continue
        image = next((i for i in figure.iter("img") if (i.get("src") or "").strip()), None)
        if image is None:
            continue
        address = urljoin(base, str(image.get("src")).strip())
        if urlsplit(address).scheme not in ("http", "https"):
            continue
        caption = next((c for c in figure.iterchildren("figcaption")), None)
        caption = caption if caption is not None else next(figure.iter("figcaption"), None)
        return Figure(address, _text(caption) if caption is not None else "")
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
