"""The HTML pages, rendered with Jinja2 from bot/web/templates/ (package data), autoescape on.

Every page: lang="ko", a canonical link, Open Graph tags (og:title, og:description = the summary,
og:type, og:url, og:locale ko_KR) so that a link shared in Telegram or KakaoTalk shows a title and
summary, schema.org JSON-LD, light and dark colours by `prefers-color-scheme`, no JavaScript.

JSON-LD: a paper page is a `ScholarlyArticle` whose headline is the Korean translation, in Korean
(`inLanguage: ko`), `translationOfWork` and `isBasedOn` the original arXiv paper (English, its id and
URLs): the page never poses as the paper; its publisher is the site, its translator the model. The
paper's authors are named as the original's (Hugging Face's list, kept in the snapshot); a week frozen
before they were kept names none rather than a guess. JSON-LD sits in a <script>, where
HTML escaping does not apply: `jsonld` writes `<`, `>` and `&` as \\u escapes, so a title holding
`</script>` cannot end the element.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from bot.links import stars
from bot.models import Digest, Paper, Translation
from bot.render import model_name, provenance
from bot.search import Hit
from bot.tghtml import shorten
from bot.web.data import PaperView, SiteIndex
from bot.web.links import Links
from bot.week import IsoWeek

SITE_NAME = "HF 주간 논문"
HOME_TITLE = "이번 주 Hugging Face 인기 논문"
ARCHIVE_TITLE = "지난 주 목록"
SEARCH_TITLE = "논문 검색"
SITE_DESCRIPTION = "Hugging Face 주간 인기 논문을 한국어로 번역·요약해 매주 전합니다."


def jsonld(data: object) -> Markup:
    """JSON for a <script> element: `<`, `>` and `&` escaped as \\u003c, \\u003e, \\u0026."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["jsonld"] = jsonld
    env.filters["stars"] = stars
    return env


def week_title(week: IsoWeek) -> str:
    return f"{week.year}년 {week.week}주차 Hugging Face 인기 논문"


def original(paper: Paper) -> dict[str, object]:
    """The original paper, as schema.org names it: its title, its authors (when the snapshot kept them),
    arXiv and Hugging Face."""
    data: dict[str, object] = {
        "@type": "ScholarlyArticle",
        "name": paper.title,
        "inLanguage": "en",
        "identifier": f"arXiv:{paper.id}",
        "url": paper.arxiv_url,
        "sameAs": [paper.hf_url],
    }
    if paper.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in paper.authors]
    return data


class Pages:
    def __init__(self, links: Links, *, bot_username: str | None, tz: tzinfo) -> None:
        self.links = links
        self._bot = bot_username.removeprefix("@") if bot_username else None
        self._tz = tz
        self._env = environment()

    def subscribe(self, payload: str = "web") -> str | None:
        return f"https://t.me/{self._bot}?start={payload}" if self._bot else None

    def _url(self, target: str, here: str) -> str:
        """A URL that names `target` wherever it is read: absolute with a public URL, else relative to `here`."""
        return self.links.absolute(target) if self.links.public_url else self.links.href(target, here)

    def _render(self, template: str, here: str, **context: Any) -> str:
        def u(target: str) -> str:
            return self.links.href(target, here)

        context.setdefault("jsonld", None)
        context.setdefault("og_type", "website")
        context.setdefault("subscribe", self.subscribe())
        return self._env.get_template(template).render(
            site_name=SITE_NAME, links=self.links, u=u, canonical=self._url(here, here), **context
        )

    def _article(self, paper: Paper, translation: Translation | None, here: str) -> dict[str, object]:
        """A paper's translation page in schema.org terms (see the module's docstring)."""
        data: dict[str, object] = {
            "@type": "ScholarlyArticle",
            "headline": translation.title_ko if translation else paper.title,
            "inLanguage": "ko" if translation else "en",
            "url": self._url(self.links.paper(paper.id), here),
            "isBasedOn": paper.arxiv_url,
            "translationOfWork": original(paper),
            "publisher": {"@type": "Organization", "name": SITE_NAME},
        }
        if translation is not None:
            data["abstract"] = translation.summary_ko
            data["translator"] = {"@type": "SoftwareApplication", "name": model_name(translation.model or "claude")}
            if translation.translated_at is not None:
                data["datePublished"] = translation.translated_at.date().isoformat()
            if translation.corrected_at is not None:
                data["dateModified"] = translation.corrected_at.date().isoformat()
        return data

    def week(self, digest: Digest, index: SiteIndex, *, home: bool = False) -> str:
        here = self.links.home() if home else self.links.week(digest.week)
        titles = [item.translation.title_ko for item in digest.items if item.translation is not None]
        description = shorten(f"{len(digest.items)}편의 한국어 번역과 요약: " + " · ".join(titles[:3]), 200)
        before, after = index.neighbours(digest.week)
        data = {
            "@context": "https://schema.org",
            "@type": "CollectionPage",
            "name": week_title(digest.week),
            "inLanguage": "ko",
            "url": self._url(here, here),
            "hasPart": [self._article(item.paper, item.translation, here) for item in digest.items],
        }
        return self._render(
            "week.html", here, title=week_title(digest.week), description=description, digest=digest,
            before=before, after=after, jsonld=data, subscribe=self.subscribe(f"w_{digest.week}"),
        )  # fmt: skip

    def paper(self, view: PaperView) -> str:
        paper, translation = view.paper, view.translation
        title = translation.title_ko if translation else paper.title
        description = shorten(translation.summary_ko if translation else paper.abstract, 300)
        data = {"@context": "https://schema.org", **self._article(paper, translation, self.links.paper(paper.id))}
        line = Markup(provenance(translation, self._tz)) if translation else ""
        return self._render(
            "paper.html", self.links.paper(paper.id), title=title, description=description, view=view,
            og_type="article", jsonld=data, provenance=line,
        )  # fmt: skip

    def archive(self, index: SiteIndex) -> str:
        years: dict[int, list[tuple[IsoWeek, object, object]]] = {}
        for week in index.weeks:
            years.setdefault(week.year, []).append((week, week.monday(), week.sunday()))
        return self._render(
            "archive.html", self.links.archive(), title=ARCHIVE_TITLE, description=SITE_DESCRIPTION,
            years=sorted(years.items(), reverse=True),
        )  # fmt: skip

    def search(self, query: str, hits: Sequence[Hit], index: SiteIndex) -> str:
        here = self.links.search() or self.links.home()
        shown = [(hit, index.papers[hit.paper.id]) for hit in hits]
        return self._render(
            "search.html", here, title=SEARCH_TITLE, description=SITE_DESCRIPTION, query=query, hits=shown
        )

    def error(self, title: str, message: str) -> str:
        return self._render("error.html", self.links.home(), title=title, description=message, message=message)

    def fragment(self, digest: Digest, absolute: Callable[[str], str]) -> str:
        """A week's digest as HTML for a feed entry (absolute links where a public URL is set)."""
        return self._env.get_template("digest_fragment.html").render(digest=digest, links=self.links, abs=absolute)
