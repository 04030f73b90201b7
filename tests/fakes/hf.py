"""A fake Hugging Face: the paged `/api/daily_papers` API, the `/papers/week/<week>` page and papers as
markdown (`/papers/<id>.md`).

It answers like the real one (pages of at most 100 items, `limit` above 100 refused, items in no
particular order) and can be told to fail: queued statuses with headers, a broken shape, no page.
"""

from __future__ import annotations

import asyncio
import copy
import html
import json
import random
from collections import deque
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.papers_text import page_shell
from tests.fakes.server import FakeServer

DATA = Path(__file__).resolve().parent.parent / "data"

Item = dict[str, Any]


def item_2026(pid: str, title: str, abstract: str, upvotes: int, *, with_links: bool = False) -> Item:
    """An item of the 2026 shape (every newer field), from the real one in tests/data. Its code
    repository, stars and project page are kept `with_links` only: most papers list none."""
    item: Item = json.loads((DATA / "daily_papers_item_2026.json").read_text())
    item["paper"].update(id=pid, title=title, summary=abstract, upvotes=upvotes)
    if not with_links:
        for name in ("githubRepo", "githubStars", "projectPage"):
            item["paper"].pop(name, None)
    item["title"] = " ".join(title.split())
    item["summary"] = abstract
    return item


def item_2024(pid: str, title: str, abstract: str, upvotes: int) -> Item:
    """An item of the old shape (no submittedOnDailyAt, no top-level summary)."""
    item: Item = copy.deepcopy(json.loads((DATA / "daily_papers_2024-10-25_first4.json").read_text())[0])
    item["paper"].update(id=pid, title=title, summary=abstract, upvotes=upvotes)
    item["title"] = " ".join(title.split())
    item.pop("summary", None)
    return item


def week_items(week: str, *, shape: str = "2026", shuffle_seed: int | None = 7) -> list[Item]:
    """A real week from tests/data as API items; upvotes fall with the page's rank; order shuffled."""
    papers = json.loads((DATA / "hf-weeks" / f"{week}.json").read_text())["papers"]
    make = item_2026 if shape == "2026" else item_2024
    items = [make(p["id"], p["title"], p["abstract"], 300 - 20 * p["rank"]) for p in papers]
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(items)
    return items


def twenty_papers() -> list[Item]:
    """Twenty papers with long titles: with top_n 20, a digest of more than one message."""
    return [
        item_2026(
            f"2509.0{i:04d}",
            f"Paper {i} on scaling laws for very large multimodal models trained on web-scale data",
            f"We study scaling law {i} for models trained on web data. It improves the score by {i}% over the "
            "strongest baseline we know of.",
            500 - i,
        )
        for i in range(20)
    ]


def long_papers() -> list[Item]:
    """Twenty papers with long abstracts: in the `full` form, seven messages or so per chat."""
    sentence = "We study how {i} agents trained on web data plan over long horizons and report the results. "
    return [
        item_2026(f"2509.1{i:04d}", f"Long-horizon planning study {i}", sentence.format(i=i) * 14, 400 - i)
        for i in range(20)
    ]


def week_page(items: list[Item]) -> str:
    """The week page as Hugging Face renders it: the items as escaped JSON in a data-props attribute."""
    props = html.escape(json.dumps({"dailyPapers": items, "dateString": "2025-W38"}), quote=True)
    return (
        "<!doctype html><html><head><title>Papers</title></head><body>"
        '<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" '
        f'data-props="{props}"><section>…</section></div></body></html>'
    )


class FakeHF(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.weeks: dict[str, list[Item]] = {}
        self.api_script: deque[tuple[int, dict[str, str], str]] = deque()  # queued API answers
        self.api_down = False  # every API call answers 500
        self.page_down = False  # the week page answers 500
        self.page_override: str | None = None  # served instead of the week page when set
        self.api_hang = 0.0  # seconds every API call waits before answering
        self.api_body_bytes: int | None = None  # every API call streams this many bytes of junk instead
        self.requests: list[str] = []  # path?query of every request, in order
        self.papers: dict[str, Item] = {}  # what /api/papers/{id} knows besides the weeks' papers
        self.search_results: dict[str, list[Item]] = {}  # /api/papers/search answers, by query
        self.authorizations: list[str | None] = []  # the Authorization header of every request, in order
        self.app.middlewares.append(self._note_authorization)
        self.markdown: dict[str, str] = {}  # /papers/{id}.md answers (tests/fakes/papers_text.py); 404 if absent
        self.markdown_html: set[str] = set()  # ids whose /papers/{id}.md answers a page shell (HTML) instead
        self.app.router.add_get("/api/daily_papers", self._api)
        self.app.router.add_get("/papers/week/{week}", self._page)
        self.app.router.add_get(r"/papers/{file:.+\.md}", self._markdown)
        self.app.router.add_get("/api/papers/search", self._search)
        self.app.router.add_get("/api/papers/{id:.+}", self._paper)

    @web.middleware
    async def _note_authorization(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.authorizations.append(request.headers.get("Authorization"))
        return await handler(request)

    @property
    def api_calls(self) -> int:
        return sum(1 for r in self.requests if r.startswith("/api/"))

    @property
    def page_calls(self) -> int:
        return sum(1 for r in self.requests if r.startswith("/papers/"))

    async def _api(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        if self.api_hang:
            await asyncio.sleep(self.api_hang)
        if self.api_script:
            status, headers, body = self.api_script.popleft()  # the headers as given (no charset added)
            return web.Response(status=status, headers=headers, body=body.encode())
        if self.api_down:
            return web.json_response({"error": "Internal Error"}, status=500)
        if self.api_body_bytes is not None:  # a runaway answer, streamed without a length
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            await response.prepare(request)
            chunk = b"[" + b" " * 65535
            for _ in range(self.api_body_bytes // len(chunk)):
                await response.write(chunk)
            return response
        limit = int(request.query.get("limit", "50"))
        if limit > 100:
            return web.json_response({"error": '"limit" must be less than or equal to 100'}, status=400)
        page = int(request.query.get("p", "0"))
        items = self.weeks.get(request.query.get("week", ""), [])
        return web.json_response(items[page * limit : (page + 1) * limit])

    async def _page(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.page_down:
            return web.Response(status=500, text="Internal Error")
        items = self.weeks.get(request.match_info["week"], [])
        page = self.page_override if self.page_override is not None else week_page(items)
        return web.Response(text=page, content_type="text/html")

    async def _paper(self, request: web.Request) -> web.Response:
        """One paper as `GET /api/papers/{id}` answers: the item's `paper` object; 404 if not indexed."""
        self.requests.append(request.path_qs)
        if self.api_down:
            return web.json_response({"error": "Internal Error"}, status=500)
        pid = request.match_info["id"]
        known = [self.papers.get(pid), *(i for items in self.weeks.values() for i in items if i["paper"]["id"] == pid)]
        item = next((i for i in known if i is not None), None)
        if item is None:
            return web.json_response({"error": "Paper not found"}, status=404)
        return web.json_response(item["paper"])

    async def _markdown(self, request: web.Request) -> web.Response:
        """`GET /papers/{id}.md`: the paper as markdown (full or a stub), a page shell, or 404."""
        self.requests.append(request.path_qs)
        if self.page_down:
            return web.Response(status=500, text="Internal Error")
        pid = request.match_info["file"].removesuffix(".md")
        if pid in self.markdown_html:
            return web.Response(text=page_shell(pid), content_type="text/html")
        if pid not in self.markdown:
            return web.Response(status=404, text="Not Found")
        return web.Response(text=self.markdown[pid], content_type="text/markdown")

    async def _search(self, request: web.Request) -> web.Response:
        """`GET /api/papers/search?q=…`: a list of items (as the daily papers API has them)."""
        self.requests.append(request.path_qs)
        if self.api_down:
            return web.json_response({"error": "Internal Error"}, status=500)
        return web.json_response(self.search_results.get(request.query.get("q", ""), []))
