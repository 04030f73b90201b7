"""The clients the composition root (bot/app.py) builds from the settings: Redis, Hugging Face's two
sources (its API and papers' full texts, both with HF_TOKEN and counted per 5-minute window), the
translator and the deep briefs."""

from __future__ import annotations

import aiohttp
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.brief import Briefs
from bot.brief_prompt import BriefPrompt
from bot.claude import Claude, sdk_client
from bot.config import Settings, config_file
from bot.digest import Clock
from bot.errors import ConfigError
from bot.prompt import PromptConfig
from bot.sources.fulltext import FullTextSource
from bot.sources.hf import HFSource
from bot.store import Store
from bot.translate import Translator

REDIS_CONNECTIONS = 32


def redis_client(settings: Settings) -> Redis:
    """The Redis client of REDIS_URL; without one, an in-process fake (the command line says so to its
    user: nothing persists)."""
    if not settings.redis_url:
        import fakeredis

        return fakeredis.FakeAsyncRedis(decode_responses=True)
    # Blocking: a burst of concurrent commands waits for a free connection instead of failing.
    # Retries with backoff and health checks: a pooled connection that went stale while Redis
    # restarted is replaced without anyone seeing an error (a pool built this way has neither).
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, decode_responses=True, max_connections=REDIS_CONNECTIONS, timeout=10,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError], health_check_interval=15,
        socket_connect_timeout=5, socket_timeout=10,
    )  # fmt: skip
    return Redis.from_pool(pool)


def hf_sources(
    settings: Settings, session: aiohttp.ClientSession, store: Store, clock: Clock
) -> tuple[HFSource, FullTextSource]:
    """Hugging Face's API, and papers' full texts (its markdown, else arXiv's HTML): HF_TOKEN on every
    request to Hugging Face (never to arXiv), each counted in the current 5-minute window (/status)."""
    token = settings.hf_token.get_secret_value() if settings.hf_token else None

    async def counted() -> None:
        await store.count_hf_call(clock().timestamp())

    source = HFSource(session, settings.hf_base_url, attempts=settings.hf_max_attempts, token=token, on_request=counted)
    fulltext = FullTextSource(
        session, store, hf_base_url=settings.hf_base_url, arxiv_html_base_url=settings.arxiv_html_base_url,
        attempts=settings.hf_max_attempts, clock=clock, on_hf_request=counted,
        hf_headers={"Authorization": f"Bearer {token}"} if token else None,
    )  # fmt: skip
    return source, fulltext


def make_translator(settings: Settings, store: Store, clock: Clock) -> Translator:
    if settings.anthropic_api_key is None:
        raise ConfigError("ANTHROPIC_API_KEY is not set")
    key = settings.anthropic_api_key.get_secret_value()
    try:
        prompt = PromptConfig.load(config_file("prompt.md"), config_file("glossary.toml"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    claude = sdk_client(key, base_url=settings.anthropic_base_url, max_retries=settings.claude_max_retries)
    asker = Claude(
        claude, store, model=settings.model, concurrency=settings.translate_concurrency,
        max_tokens=settings.translate_max_tokens, tz=settings.tz, clock=clock,
    )  # fmt: skip
    return Translator(asker, prompt, papers=store, trust=store, edits=store, tz=settings.tz, clock=clock)


def make_briefs(
    settings: Settings, store: Store, clock: Clock, translator: Translator, fulltext: FullTextSource
) -> Briefs:
    """Deep briefs (bot/brief.py): the translator's Claude and glossary, config/brief.md."""
    try:
        prompt = BriefPrompt.load(config_file("brief.md"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return Briefs(
        translator.claude, prompt, fulltext, briefs=store, texts=store, glossary=translator.glossary,
        top=settings.brief_top, clock=clock,
    )  # fmt: skip
