"""Deep briefs (bot/brief.py): cached like translations, and a failure remembered briefly."""

from __future__ import annotations

from datetime import timedelta

from pydantic import TypeAdapter

from bot.models import Brief
from bot.store.base import StoreBase, call

BRIEF_TTL = timedelta(days=400)
FAILED_BRIEF_TTL = timedelta(minutes=15)  # a paper whose brief failed is not asked of Claude again before this

_BRIEF = TypeAdapter(Brief)


class BriefStore(StoreBase):
    def brief_key(self, paper_id: str, model: str, prompt_hash: str, text_hash: str) -> str:
        """A brief's cache key: the paper, the model, the brief prompt and the full text it was written
        from (a better full text later makes a new brief)."""
        return self._key("brief", paper_id, model, prompt_hash, text_hash)

    async def get_brief(self, key: str) -> Brief | None:
        raw = await self._get(key)
        return self._decode(_BRIEF, raw, key) if raw is not None else None

    async def save_brief(self, key: str, brief: Brief) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, _BRIEF.dump_json(brief), ex=BRIEF_TTL)
            pipe.delete(f"{key}:failed")
            pipe.incr(self._key("content", "version"))  # the paper's web page shows it (bot/web/)
            await call(pipe.execute())

    async def mark_brief_failed(self, key: str) -> None:
        await call(self._redis.set(f"{key}:failed", "1", ex=FAILED_BRIEF_TTL))

    async def brief_recently_failed(self, key: str) -> bool:
        return await self._get(f"{key}:failed") is not None
