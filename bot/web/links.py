"""Where each page and feed lives. One scheme for the server and the static export:

- server: `/`, `/weeks`, `/weeks/2025-W38`, `/papers/2509.13310`, `/search`, `/feed.atom`, … — links
  are absolute (HFWEEKLY_PUBLIC_URL + path) when a public URL is set, else root-relative;
- static export: `index.html`, `weeks/index.html`, `weeks/2025-W38.html`, `papers/2509.13310.html`,
  `feed.atom`, … — links are relative to the page that holds them, so the folder works from any
  place (GitHub Pages, S3, a file:// URL).

A page's canonical URL (canonical link, og:url, feed ids) is absolute when a public URL is set, else
its server path (set HFWEEKLY_PUBLIC_URL in production).
"""

from __future__ import annotations

import posixpath

from bot.week import IsoWeek


class Links:
    def __init__(self, public_url: str | None, *, static: bool) -> None:
        self.public_url = public_url.rstrip("/") if public_url else None
        self.static = static

    # --- the targets (site paths: what the server routes, or the file a static export writes) --------

    def home(self) -> str:
        return "index.html" if self.static else "/"

    def archive(self) -> str:
        return "weeks/index.html" if self.static else "/weeks"

    def week(self, week: IsoWeek | str) -> str:
        return f"weeks/{week}.html" if self.static else f"/weeks/{week}"

    def paper(self, paper_id: str) -> str:
        return f"papers/{paper_id}.html" if self.static else f"/papers/{paper_id}"

    def feed(self, name: str) -> str:
        """`feed.atom`, `feed.json`, `papers.atom` or `topics/<topic>.atom`."""
        return name if self.static else f"/{name}"

    def search(self) -> str | None:
        """The search page: none in a static export (there is no server to ask)."""
        return None if self.static else "/search"

    # --- links --------------------------------------------------------------------------------------

    def href(self, target: str, here: str) -> str:
        """How the page at `here` links to `target`."""
        if self.static:
            return posixpath.relpath(target, posixpath.dirname(here) or ".")
        return self.absolute(target)

    def absolute(self, target: str) -> str:
        """`target`'s canonical URL: absolute with a public URL (a static export's files under it, an
        `index.html` as its folder); without one, the server path (or, exported, the relative file)."""
        path = target if not self.static else "/" + target.removesuffix("index.html")
        if self.public_url is None:
            return target
        return self.public_url + path
