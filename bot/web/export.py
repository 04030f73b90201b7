"""`hfweekly site build DIR [--weeks N]`: the site as files for any static host (GitHub Pages, S3).

The same pages and feeds as the server (bot/web/site.py with static links: bot/web/links.py), each
written to its file: index.html (the latest week), weeks/index.html (the archive), weeks/<week>.html,
papers/<id>.html, feed.atom, feed.json, papers.atom and 404.html. Links between them are relative, so
the folder works from wherever it is served; feeds and canonical links are absolute when a public URL
is set (HFWEEKLY_PUBLIC_URL or --public-url). No search page (nothing to answer it) and no topic
feeds (any topic is a feed: the server makes them). Files are written to a temporary name and renamed,
so a host serving DIR meanwhile never shows half a page.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.web.site import FEEDS, Site

Progress = Callable[[int, int], None]  # (pages written, pages in all)


@dataclass(frozen=True)
class Built:
    pages: int  # files written (pages and feeds)
    weeks: int
    seconds: float


def _write(root: Path, relative: str, body: bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(body)
    os.replace(temporary, path)


async def build_site(site: Site, folder: str | Path, *, progress: Progress | None = None) -> Built:
    """Write every page and feed of `site` (a static one: `Links(static=True)`) under `folder`."""
    root = Path(folder)
    if not site.links.static:
        raise ValueError("a static export needs static links")
    started = time.perf_counter()
    links = site.links
    versions = await site.data.versions()
    index = await site.data.index(versions[0])
    targets: list[tuple[str, str, str]] = [("home", "", links.home()), ("archive", "", links.archive())]
    targets += [("week", str(week), links.week(week)) for week in index.weeks]
    targets += [("paper", paper_id, links.paper(paper_id)) for paper_id in index.papers]
    targets += [("feed", name, links.feed(name)) for name in FEEDS]
    targets += [("missing", "", "404.html")]
    for done, (kind, key, path) in enumerate(targets, start=1):
        _write(root, path, (await site.get(kind, key)).body)
        if progress is not None:
            progress(done, len(targets))
    return Built(len(targets), len(index.weeks), time.perf_counter() - started)
