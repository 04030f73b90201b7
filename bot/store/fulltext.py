"""Papers' full texts (bot/sources/fulltext.py), kept compressed: a paper's body is fetched once a month.
Their first figures, when arXiv's HTML was fetched for the figure alone (`figure:<id>`: the figure for 30
days, "none" for a day), and the figures' Korean captions (`figcap:<id>:<model>:<hash of the caption>`)."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime, timedelta

from bot.models import Figure, FullText
from bot.store.base import StoreBase, call, dumps, log

FULLTEXT_TTL = timedelta(days=30)
FIGURE_TTL = timedelta(days=30)
NO_FIGURE_TTL = timedelta(days=1)  # arXiv converts new papers to HTML within days: look again tomorrow
CAPTION_TTL = timedelta(days=400)  # as translations: a caption and the model that translated it do not change
NO_CAPTION_TTL = timedelta(days=1)  # a caption Claude could not translate faithfully: English until tomorrow
_NONE = "none"


def _figure_data(figure: Figure | None) -> dict[str, str] | None:
    return {"url": figure.url, "caption": figure.caption} if figure is not None else None


def _figure_of(data: object) -> Figure | None:
    if not isinstance(data, dict):
        return None
    return Figure(url=str(data["url"]), caption=str(data.get("caption", "")))


def encode_full_text(full: FullText) -> str:
    """zlib-compressed JSON, base64'd: the client decodes answers as UTF-8 (decode_responses), so the
    value must be text; 60,000 characters of prose come to about 20 kB this way."""
    data = {
        "paper_id": full.paper_id,
        "source": full.source,
        "sections": [list(section) for section in full.sections],
        "truncated": full.truncated,
        "fetched_at": full.fetched_at.isoformat(),
        "figure": _figure_data(full.figure),
    }
    return base64.b64encode(zlib.compress(dumps(data).encode(), 9)).decode("ascii")


def decode_full_text(raw: str) -> FullText:
    data = json.loads(zlib.decompress(base64.b64decode(raw)))
    return FullText(
        paper_id=data["paper_id"],
        source=data["source"],
        sections=tuple((str(title), str(text)) for title, text in data["sections"]),
        truncated=bool(data["truncated"]),
        fetched_at=datetime.fromisoformat(data["fetched_at"]),
        figure=_figure_of(data.get("figure")),  # absent in entries kept before figures were
    )


class FullTextStore(StoreBase):
    async def get_full_text(self, paper_id: str) -> FullText | None:
        raw = await self._get(self._key("fulltext", paper_id))
        if raw is None:
            return None
        try:
            return decode_full_text(raw)
        except (ValueError, KeyError, TypeError, zlib.error) as exc:
            log.warning("Ignoring unreadable full text of %s: %s", paper_id, exc)
            return None

    async def save_full_text(self, full: FullText, *, ttl: timedelta = FULLTEXT_TTL) -> None:
        await call(self._redis.set(self._key("fulltext", full.paper_id), encode_full_text(full), ex=ttl))

    async def get_figure(self, paper_id: str) -> tuple[bool, Figure | None]:
        """(known, figure): whether arXiv's HTML was looked at for the paper's figure lately, and what it
        had (None: no figure)."""
        raw = await self._get(self._key("figure", paper_id))
        if raw is None:
            return False, None
        if raw == _NONE:
            return True, None
        try:
            return True, _figure_of(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("Ignoring unreadable figure of %s: %s", paper_id, exc)
            return False, None

    async def save_figure(self, paper_id: str, figure: Figure | None) -> None:
        value, ttl = (dumps(_figure_data(figure)), FIGURE_TTL) if figure is not None else (_NONE, NO_FIGURE_TTL)
        await call(self._redis.set(self._key("figure", paper_id), value, ex=ttl))

    async def get_caption_ko(self, key: str) -> str | None:
        """A figure's Korean caption by its key (paper, model, caption hash); "" when it could not be had."""
        return await self._get(self._key("figcap", key))

    async def save_caption_ko(self, key: str, caption_ko: str) -> None:
        """ "" (no faithful translation) is kept for a day only."""
        ttl = CAPTION_TTL if caption_ko else NO_CAPTION_TTL
        await call(self._redis.set(self._key("figcap", key), caption_ko, ex=ttl))
