"""Snapshots (frozen weekly rankings), papers, the translation cache and Claude usage."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timedelta

from pydantic import TypeAdapter

from bot.models import Paper, Snapshot, Translation, Usage
from bot.store.base import StoreBase, call, dumps, log
from bot.week import IsoWeek

SNAPSHOT_TTL = timedelta(days=400)  # a completed week's ranking is kept for good (a year and more)
PROVISIONAL_SNAPSHOT_TTL = timedelta(minutes=30)  # a running or short week: fetched again after this
TRANSLATION_TTL = timedelta(days=400)
FAILED_TRANSLATION_TTL = timedelta(minutes=15)  # a failed paper is not asked of Claude again by a mere view
USAGE_TTL = timedelta(days=400)
FOUND_TTL = timedelta(days=30)  # a paper found on demand: its title and abstract rarely change

_TRANSLATION = TypeAdapter(Translation)


class PaperStore(StoreBase):
    # --- snapshots -------------------------------------------------------------------------------

    async def get_snapshot(self, week: IsoWeek) -> Snapshot | None:
        raw = await self._get(self._key("snapshot", str(week)))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Snapshot(
                week=week,
                papers=tuple(Paper(**p) for p in data["papers"]),
                fetched_at=datetime.fromisoformat(data["fetched_at"]),
                source_url=data["source_url"],
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("Ignoring unreadable snapshot of %s: %s", week, exc)
            return None

    async def save_snapshot(self, snapshot: Snapshot, *, final: bool) -> None:
        """Keep a week's ranking: for good when `final` (frozen), else briefly (fetched again later)."""
        data = {
            "week": str(snapshot.week),
            "fetched_at": snapshot.fetched_at.isoformat(),
            "source_url": snapshot.source_url,
            "papers": [asdict(p) for p in snapshot.papers],
        }
        ttl = SNAPSHOT_TTL if final else PROVISIONAL_SNAPSHOT_TTL
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("snapshot", str(snapshot.week)), dumps(data), ex=ttl)
            for paper in snapshot.papers:
                record = {"week": str(snapshot.week), **asdict(paper)}
                pipe.set(self._key("paper", paper.id), dumps(record), ex=SNAPSHOT_TTL)
            if final:  # the search index of every process rebuilds at its next query
                pipe.incr(self._key("archive", "version"))
                pipe.incr(self._key("content", "version"))
            await call(pipe.execute())

    async def archive_version(self) -> int:
        """Bumped whenever a week is frozen: the search index is rebuilt when it changed."""
        return int(await self._get(self._key("archive", "version")) or 0)

    async def versions(self) -> tuple[int, int]:
        """(archive version, content version): one MGET per web request (bot/web/). The content version
        is bumped whenever a week is frozen, a translation saved (a correction too) or a brief saved."""
        raws = await call(self._redis.mget([self._key("archive", "version"), self._key("content", "version")]))
        return int(raws[0] or 0), int(raws[1] or 0)

    async def all_snapshots(self) -> list[Snapshot]:
        """Every week's ranking kept (one SCAN, then a GET per week: for rebuilding the search index)."""
        keys = sorted(await self._scan(self._key("snapshot", "*")))
        found = []
        for key in keys:
            year, week = key.rsplit(":", 1)[1].split("-W")
            if (snapshot := await self.get_snapshot(IsoWeek(int(year), int(week)))) is not None:
                found.append(snapshot)
        return found

    async def get_paper(self, paper_id: str) -> tuple[Paper, IsoWeek] | None:
        """A paper seen in some week's ranking, and that week (for deep links and /retranslate)."""
        raw = await self._get(self._key("paper", paper_id))
        if raw is None:
            return None
        data = json.loads(raw)
        year, week = data.pop("week").split("-W")
        return Paper(**data), IsoWeek(int(year), int(week))

    async def known_paper(self, paper_id: str) -> tuple[Paper, IsoWeek | None] | None:
        """A paper the bot knows without asking anyone: from a week's ranking (with that week), else
        among the papers found on demand lately."""
        archived = await self.get_paper(paper_id)
        if archived is not None:
            return archived
        found = await self.get_found_paper(paper_id)
        return (found, None) if found is not None else None

    # --- translation cache -----------------------------------------------------------------------

    def translation_key(
        self, paper_id: str, content_hash: str, model: str, prompt_hash: str, instructions_hash: str = ""
    ) -> str:
        """A translation's cache key: the paper, its title and abstract, the model, the prompt, and the
        admins' instructions for the paper, if any (bot/store/trust.py)."""
        parts = (paper_id, content_hash, model, prompt_hash, *([instructions_hash] if instructions_hash else []))
        return self._key("tr", *parts)

    async def get_translations(self, keys: list[str]) -> list[Translation | None]:
        if not keys:
            return []
        raws: list[str | None] = await call(self._redis.mget(keys))
        return [
            self._decode(_TRANSLATION, raw, key) if raw is not None else None
            for key, raw in zip(keys, raws, strict=True)
        ]

    async def save_translation(self, key: str, translation: Translation) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, _TRANSLATION.dump_json(translation), ex=TRANSLATION_TTL)
            pipe.incr(self._key("content", "version"))  # the web pages showing it render again (bot/web/)
            await call(pipe.execute())

    async def mark_failed(self, key: str) -> None:
        """Remember that translating `key` failed just now (so views do not ask Claude again at once)."""
        await call(self._redis.set(f"{key}:failed", "1", ex=FAILED_TRANSLATION_TTL))

    async def recently_failed(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        found = await call(self._redis.mget([f"{key}:failed" for key in keys]))
        return {key for key, value in zip(keys, found, strict=True) if value is not None}

    async def count_translations(self) -> int:
        return sum(not key.endswith(":failed") for key in await self._scan(self._key("tr", "*")))

    # --- Claude usage ----------------------------------------------------------------------------

    async def add_usage(self, week: IsoWeek, usage: Usage, *, spent: IsoWeek) -> None:
        """Count tokens against the digest's week and against the week they were spent in."""
        await self._count_usage(usage, self._key("usage", str(week)), self._key("usage", "spent", str(spent)))

    async def _count_usage(self, usage: Usage, *keys: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                for name, value in asdict(usage).items():
                    if value:
                        pipe.hincrby(key, name, value)
                pipe.expire(key, USAGE_TTL)
            await call(pipe.execute())

    async def get_usage(self, week: IsoWeek, *, spent: bool = False) -> Usage:
        key = self._key("usage", "spent", str(week)) if spent else self._key("usage", str(week))
        raw: dict[str, str] = await call(self._redis.hgetall(key))
        return Usage(**{name: int(raw.get(name, 0)) for name in asdict(Usage())})

    # --- papers asked for on demand (/paper) -----------------------------------------------------

    async def get_found_paper(self, paper_id: str) -> Paper | None:
        """A paper found on demand (Hugging Face or arXiv) lately, so it is not looked up again."""
        raw = await self._get(self._key("found", paper_id))
        return Paper(**json.loads(raw)) if raw else None

    async def save_found_paper(self, paper: Paper) -> None:
        await call(self._redis.set(self._key("found", paper.id), dumps(asdict(paper)), ex=FOUND_TTL))

    async def take_paper_allowance(self, user_id: int, day: date, *, limit: int) -> int | None:
        """Count one new on-demand translation for the person today: how many they have left after it,
        or None (nothing counted) when they have none left."""
        key = self._key("ondemand", "user", str(user_id), day.isoformat())
        used = await self._count_up_to(key, limit, ttl=timedelta(days=2))
        return None if used is None else limit - used

    async def give_back_paper_allowance(self, user_id: int, day: date) -> None:
        """A translation that failed costs the person nothing."""
        await call(self._redis.decr(self._key("ondemand", "user", str(user_id), day.isoformat())))

    async def add_on_demand_usage(self, usage: Usage, *, day: date, spent: IsoWeek) -> None:
        """Tokens of an on-demand translation: against the day (the budget) and the week (/status)."""
        await self._count_usage(
            usage, self._key("ondemand", "day", day.isoformat()), self._key("ondemand", "week", str(spent))
        )

    async def on_demand_usage(self, *, day: date | None = None, week: IsoWeek | None = None) -> Usage:
        key = self._key("ondemand", "day", day.isoformat()) if day else self._key("ondemand", "week", str(week))
        raw: dict[str, str] = await call(self._redis.hgetall(key))
        return Usage(**{name: int(raw.get(name, 0)) for name in asdict(Usage())})
