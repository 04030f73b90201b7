"""A fake arXiv: the export API, `GET /api/query?id_list=…`, answers an Atom feed shaped like the real one
(an entry per paper found; an empty feed for an id arXiv does not have; an error entry for a
malformed id); HTML papers, `GET /html/{id}`, redirect to the latest version as arXiv does and answer
LaTeXML's markup (tests/fakes/papers_text.py), 404 for a paper without HTML."""

from __future__ import annotations

import asyncio
import html
import re

from aiohttp import web

from tests.fakes.server import FakeServer

_WELL_FORMED = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query%3D%26id_list%3D{ids}%26start%3D0%26max_results%3D10" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=&amp;id_list={ids}&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2025-09-20T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">10</opensearch:itemsPerPage>
{entries}</feed>
"""

ENTRY = """  <entry>
    <id>http://arxiv.org/abs/{id}v2</id>
    <updated>2025-09-17T17:59:59Z</updated>
    <published>2025-09-16T17:59:59Z</published>
    <title>{title}</title>
    <summary>  {summary}
</summary>
    <author>
      <name>Ada Lovelace</name>
    </author>
    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">{comment}</arxiv:comment>
    <link href="http://arxiv.org/abs/{id}v2" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{id}v2" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
"""

ERROR = """  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_{id}</id>
    <title>Error</title>
    <summary>incorrect id format for {id}</summary>
    <updated>2025-09-20T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_{id}" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
"""


class FakeArxiv(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.papers: dict[str, tuple[str, str, str]] = {}  # id -> (title, abstract, comment)
        self.down = False
        self.requests: list[str] = []
        self.html: dict[str, str] = {}  # id -> the paper's HTML (tests/fakes/papers_text.py)
        self.html_stream_bytes: int | None = None  # /html/ streams this many bytes, without a length, instead
        self.authorizations: list[str | None] = []  # the Authorization header of every /html/ request, in order
        self.html_gate = asyncio.Event()  # /html/ answers wait while it is clear (tests hold arXiv "slow")
        self.html_gate.set()
        self.app.router.add_get("/api/query", self._query)
        self.app.router.add_get("/html/{id:.+}", self._html)

    def add(self, paper_id: str, title: str, abstract: str, comment: str = "12 pages, 3 figures") -> None:
        self.papers[paper_id] = (title, abstract, comment)

    async def _query(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.down:
            return web.Response(status=503, text="Service Unavailable", headers={"Retry-After": "0"})
        ids = request.query.get("id_list", "")
        entries = []
        for pid in filter(None, ids.split(",")):
            if not _WELL_FORMED.match(pid):
                entries.append(ERROR.format(id=html.escape(pid)))
            elif pid in self.papers:
                title, summary, comment = (html.escape(x) for x in self.papers[pid])
                wrapped = "\n".join(summary[i : i + 70] for i in range(0, len(summary), 70))  # hard line breaks
                entries.append(ENTRY.format(id=pid, title=title, summary=wrapped, comment=comment))
        body = FEED.format(ids=html.escape(ids), total=len(entries), entries="".join(entries))
        return web.Response(text=body, content_type="application/atom+xml")

    @property
    def html_calls(self) -> int:
        return sum(1 for r in self.requests if r.startswith("/html/"))

    async def _html(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request.path_qs)
        self.authorizations.append(request.headers.get("Authorization"))
        await self.html_gate.wait()
        if self.down:
            return web.Response(status=503, text="Service Unavailable", headers={"Retry-After": "0"})
        pid = request.match_info["id"]
        if self.html_stream_bytes is not None:  # a runaway answer, streamed without a length
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            chunk = b"<p>" + b"x" * 65533
            for _ in range(self.html_stream_bytes // len(chunk)):
                await response.write(chunk)
            return response
        if pid in self.html:  # the unversioned address redirects to the latest version
            raise web.HTTPFound(f"/html/{pid}v2")
        if pid.removesuffix("v2") in self.html and pid.endswith("v2"):
            return web.Response(text=self.html[pid.removesuffix("v2")], content_type="text/html")
        return web.Response(status=404, text="No HTML for this paper")
