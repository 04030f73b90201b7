"""The public web archive and feeds (issue 19): frozen weeks and their passing translations as Korean
pages, Atom and JSON feeds, and a static export.

- data.py: what the pages show, read from Redis only (never Hugging Face or Claude): `WebData`.
- links.py: where each page lives, on the server (absolute or root-relative URLs) and in a static
  export (relative file paths).
- pages.py: Jinja2 rendering of the HTML pages (templates/, autoescaped; JSON-LD escaped).
- feeds.py: Atom (feedgen) and JSON Feed 1.1.
- site.py: one page or feed by its path, rendered and cached (`Site`), shared by the server and the export.
- server.py: the aiohttp listener (ETag, Last-Modified, 304s), started by `hfweekly run` when
  HFWEEKLY_WEB=true or alone by `hfweekly web`.
- export.py: `hfweekly site build DIR`.
"""
