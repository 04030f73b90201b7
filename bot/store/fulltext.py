"""Papers' full texts (bot/sources/fulltext.py), kept compressed: a paper's body is fetched once a month."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime, timedelta

from bot.models import FullText
from bot.store.base import StoreBase, call, dumps, log

FULLTEXT_TTL = timedelta(days=30)


def encode_full_text(full: FullText) -> str:
    """zlib-compressed JSON, base64'd: the client decodes answers as UTF-8 (decode_responses), so the
    value must be text; 60,000 characters of prose come to about 20 kB this way."""
    data = {
        "paper_id": full.paper_id,
        "source": full.source,
        "sections": [list(section) for section in full.sections],
        "truncated": full.truncated,
        "fetched_at": full.fetched_at.isoformat(),
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
