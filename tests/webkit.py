"""Helpers of the web tests: the site over an app's Redis, served on a free loopback port."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDict

from bot.app import App
from bot.web.build import make_site
from bot.web.server import WebServer
from bot.web.site import Site
from bot.week import IsoWeek

W38, W39, W40, W14 = IsoWeek(2025, 38), IsoWeek(2025, 39), IsoWeek(2025, 40), IsoWeek(2026, 14)
PUBLIC = "https://papers.example.kr"
HANGUL = re.compile(r"[\uac00-\ud7a3]")  # a Korean syllable


def site_of(app: App, *, static: bool = False, public_url: str | None = PUBLIC, weeks: int | None = None) -> Site:
    return make_site(
        app.settings, app.digests, app.translator, app.archive, app.briefs, app.store, app.clock,
        static=static, public_url=public_url, max_weeks=weeks,
    )  # fmt: skip


@dataclass
class Page:
    status: int
    headers: CIMultiDict[str]  # case-insensitive
    text: str

    def jsonld(self) -> Any:
        found = re.search(r'<script type="application/ld\+json">(.*?)</script>', self.text, re.S)
        assert found is not None, "no JSON-LD"
        return json.loads(found[1])


@asynccontextmanager
async def served(site: Site) -> AsyncIterator[str]:
    server = WebServer(site, "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def get(base: str, path: str, **headers: str) -> Page:
    async with aiohttp.ClientSession() as session, session.get(base + path, headers=headers) as response:
        return Page(response.status, CIMultiDict(response.headers), await response.text())
