"""Building the web parts from the app's services (the composition root and the commands call these)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import SecretStr

from bot.brief import Briefs
from bot.config import Settings
from bot.digest import DigestService
from bot.errors import ConfigError
from bot.search import ArchiveIndex
from bot.store import PaperStore
from bot.translate import Translator
from bot.web.data import WebData
from bot.web.links import Links
from bot.web.server import WebServer
from bot.web.site import Site


def reader(settings: Settings) -> Settings:
    """Settings for a process that only reads (`hfweekly web`, `site build`): the translator is built to
    name the cache keys of translations and never asks Claude, so no Claude key is needed."""
    if settings.anthropic_api_key is not None:
        return settings
    return settings.model_copy(update={"anthropic_api_key": SecretStr("unused: the web pages never ask Claude")})


def make_site(
    settings: Settings,
    digests: DigestService,
    translator: Translator | None,
    archive: ArchiveIndex | None,
    briefs: Briefs | None,
    papers: PaperStore,
    clock: Callable[[], datetime],
    *,
    static: bool = False,
    public_url: str | None = None,
    max_weeks: int | None = None,
) -> Site:
    """The site (pages, feeds, cache) over Redis; `static`: links between files of an export."""
    if translator is None or archive is None:  # the translator names the cache keys of translations
        raise ConfigError(
            "the web pages read the translations cached for the model and prompt: they need the translator"
        )
    data = WebData(
        digests,
        translator,
        archive,
        briefs,
        papers=papers,
        top_n=settings.top_n,
        tz=settings.tz,
        clock=clock,
        max_weeks=max_weeks,
    )
    links = Links(public_url or settings.public_url, static=static)
    return Site(data, links, bot_username=settings.bot_username, tz=settings.tz)


async def start_web(
    settings: Settings,
    digests: DigestService,
    translator: Translator | None,
    archive: ArchiveIndex | None,
    briefs: Briefs | None,
    papers: PaperStore,
    clock: Callable[[], datetime],
) -> WebServer:
    """The public listener on HFWEEKLY_WEB_HOST:HFWEEKLY_WEB_PORT, started (stop it with `stop`)."""
    site = make_site(settings, digests, translator, archive, briefs, papers, clock)
    server = WebServer(site, settings.web_host, settings.web_port)
    await server.start()
    return server
