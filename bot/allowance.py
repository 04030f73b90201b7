"""How many new weeks a person may have built for them (/week, ◀ ▶): building one asks Hugging Face and
Claude, so each person has `week_build_limit` builds in `week_build_window_minutes`, a sliding window
counted in Redis (bot/store/limits.py) across every process. Weeks already built cost nothing."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.store import LimitStore


class WeekBuilds:
    def __init__(self, limits: LimitStore, settings: Settings) -> None:
        self._limits = limits
        self._settings = settings  # read when asked: the limit may change while the bot runs

    async def take(self, user_id: int) -> bool:
        """Count one build for the person; False (nothing counted) when they have had their limit."""
        window = timedelta(minutes=self._settings.week_build_window_minutes)
        return await self._limits.take_week_build(user_id, limit=self._settings.week_build_limit, window=window)
