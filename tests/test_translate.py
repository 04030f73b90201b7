"""The translator and the pipeline against the fake Claude and Hugging Face over HTTP, and real Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, open_app
from bot.config import CONFIG_FILES, DEFAULTS, Settings
from bot.models import Paper, Status
from bot.numbers import numbers
from bot.render import render_json, render_telegram, render_text
from bot.store import StoreError
from bot.validate import foreign_links, hangul_share, missing_numbers
from bot.week import IsoWeek
from tests.conftest import NOW, free_port, start_redis_server
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF

W38 = IsoWeek(2025, 38)


def no_error_text(*outputs: str) -> None:
    for out in outputs:
        for fragment in ("오류", "error", "Error", "Overloaded", "529", "시도 후에도", "Traceback"):
            assert fragment not in out, fragment


async def test_cold_build_translates_every_paper(app: App, fake_claude: FakeClaude, fake_hf: FakeHF) -> None:
    digest = await app.digests.build(W38)
    assert [item.status for item in digest.items] == [Status.TRANSLATED] * 10
    assert fake_claude.calls == 10
    first = digest.items[0]
    assert first.paper.id == "2509.13310"
    assert first.translation is not None
    assert "39.9%" in first.translation.abstract_ko
    assert first.translation.title_ko.startswith("한국어 제목")
    assert digest.source_url == "https://huggingface.co/papers/week/2025-W38"
    assert (str(digest.start), str(digest.end)) == ("2025-09-15", "2025-09-21")


async def test_request_shape(app: App, fake_claude: FakeClaude) -> None:
    await app.digests.build(W38, top_n=1)
    [body] = fake_claude.requests
    assert body["model"] == "claude-sonnet-5-5"
    assert "temperature" not in body and "top_p" not in body
    schema = body["output_config"]["format"]["schema"]
    assert schema["required"] == ["title_ko", "summary_ko", "abstract_ko"]
    system = body["system"][0]["text"]
    assert "학술적인 한국어" in system  # config/prompt.md
    assert "강화학습(reinforcement learning)" in system  # config/glossary.toml
    user = body["messages"][0]["content"]
    assert user.startswith("제목: Scaling Agents via Continual Pre-training\n\n초록:\n")
    assert fake_claude.api_key(0) == "test-key-not-a-secret"


async def test_warm_rebuild_makes_no_calls(app: App, fake_claude: FakeClaude, fake_hf: FakeHF) -> None:
    cold = await app.digests.build(W38)
    calls, hf_calls = fake_claude.calls, len(fake_hf.requests)
    warm = await app.digests.build(W38)
    assert (fake_claude.calls, len(fake_hf.requests)) == (calls, hf_calls)
    assert warm == cold


async def test_snapshot_is_frozen_until_refresh(app: App, fake_claude: FakeClaude, fake_hf: FakeHF) -> None:
    first = await app.digests.build(W38)
    fake_hf.weeks["2025-W38"][0]["paper"]["upvotes"] = 10_000  # upvotes keep moving after the week
    again = await app.digests.build(W38)
    assert again.items == first.items
    refreshed = await app.digests.build(W38, refresh=True)
    assert refreshed.items[0].paper.upvotes == 10_000
    assert fake_claude.calls == 10  # translations stay cached across a refresh


async def test_top_n_and_a_short_week(app: App) -> None:
    assert len((await app.digests.build(W38, top_n=3)).items) == 3
    assert len((await app.digests.build(IsoWeek(2026, 14))).items) == 9


async def test_overloaded_then_success(app: App, fake_claude: FakeClaude) -> None:
    fake_claude.script.extend(["overloaded"])
    digest = await app.digests.build(W38, top_n=1)
    assert digest.items[0].status is Status.TRANSLATED
    assert fake_claude.calls == 2  # the SDK retried the 529


async def test_claude_always_failing_leaves_papers_pending(
    app: App, fake_claude: FakeClaude, caplog: pytest.LogCaptureFixture
) -> None:
    fake_claude.default = "overloaded"
    digest = await app.digests.build(W38)
    assert [item.status for item in digest.items] == [Status.PENDING] * 10
    assert all(item.translation is None for item in digest.items)
    assert fake_claude.calls == 20  # one request and one SDK retry (claude_max_retries=1) per paper
    assert "Translation of 2509.13310 failed: Claude API error: HTTP 529" in caplog.text
    data = json.loads(render_json(digest))
    assert all(p["status"] == "pending" and p["abstract_ko"] is None for p in data["papers"])
    text, parts = render_text(digest), render_telegram(digest)
    no_error_text(text, *parts)
    assert text.count("번역 준비 중") == 10
    assert all("번역 준비 중" in part for part in parts)

    # Claude is back: the next build translates what was pending.
    fake_claude.default = "good"
    healed = await app.digests.build(W38)
    assert [item.status for item in healed.items] == [Status.TRANSLATED] * 10


async def test_english_answer_is_reasked_with_the_reason(app: App, fake_claude: FakeClaude) -> None:
    fake_claude.script.append("english")
    digest = await app.digests.build(W38, top_n=1)
    assert digest.items[0].status is Status.TRANSLATED
    assert fake_claude.calls == 2
    reask = fake_claude.requests[1]["messages"]
    assert [m["role"] for m in reask] == ["user", "assistant", "user"]
    assert "is not Korean" in reask[2]["content"]


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("english", "is not Korean"),
        ("truncated", "truncated"),
        ("drop_number", "lost numbers of the abstract: 1, 10, 30, 31.5%, 39.9%, 43.3%"),
        ("long_summary", "summary_ko has 6 sentences; it must have 2 or 3"),
        ("refusal", "the model refused to answer"),
        ("long_title", "title_ko has 3199 characters: translate the title only"),
        ("link", "links the paper does not have: https://evil.example/login"),
        ("html", "the answer is not a Messages response (str without content)"),
        ("empty", "the answer is not a Messages response (Message without content)"),
    ],
)
async def test_bad_answers_twice_make_the_paper_pending(
    app: App, fake_claude: FakeClaude, caplog: pytest.LogCaptureFixture, behaviour: str, reason: str
) -> None:
    fake_claude.script.extend([behaviour, behaviour])
    digest = await app.digests.build(W38, top_n=1)
    assert digest.items[0].status is Status.PENDING
    assert fake_claude.calls == 2  # one re-ask, no more
    assert reason in fake_claude.requests[1]["messages"][2]["content"]
    assert "Translation of 2509.13310 failed after a re-ask: " in caplog.text
    no_error_text(render_text(digest), *render_telegram(digest))


async def test_rejected_answers_are_not_cached(app: App, fake_claude: FakeClaude) -> None:
    fake_claude.script.extend(["drop_number", "drop_number"])
    await app.digests.build(W38, top_n=1)
    digest = await app.digests.build(W38, top_n=1)
    assert digest.items[0].status is Status.TRANSLATED
    assert fake_claude.calls == 3


async def test_concurrency_is_bounded(settings: Settings, fake_claude: FakeClaude) -> None:
    fake_claude.delay = 0.2
    async with open_app(settings.model_copy(update={"translate_concurrency": 3}), clock=lambda: NOW) as app:
        await app.digests.build(W38)
    assert fake_claude.max_in_flight == 3


async def test_usage_is_recorded_per_week(app: App, fake_claude: FakeClaude) -> None:
    await app.digests.build(W38, top_n=2)
    usage = await app.store.get_usage(W38)
    assert usage.calls == 2
    assert usage.input_tokens > 1800
    assert usage.output_tokens > 0
    assert usage.cache_read_input_tokens == 1400


async def test_changed_prompt_retranslates(
    settings: Settings, fake_claude: FakeClaude, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").mkdir()
    for name in CONFIG_FILES:
        (tmp_path / "config" / name).write_bytes((DEFAULTS / name).read_bytes())
    monkeypatch.setenv("HFWEEKLY_CONFIG_DIR", str(tmp_path / "config"))
    async with open_app(settings, clock=lambda: NOW) as app:
        await app.digests.build(W38, top_n=2)
        await app.digests.build(W38, top_n=2)
    assert fake_claude.calls == 2

    glossary = tmp_path / "config" / "glossary.toml"  # a glossary change: new translations only
    glossary.write_text(glossary.read_text() + '"scaling law" = "스케일링 법칙"\n')
    async with open_app(settings, clock=lambda: NOW) as app:
        await app.digests.build(W38, top_n=2)
        assert fake_claude.calls == 2
        await app.digests.build(W38, top_n=3)
    assert fake_claude.calls == 3
    assert "스케일링 법칙(scaling law)" in fake_claude.requests[-1]["system"][-1]["text"]

    prompt = tmp_path / "config" / "prompt.md"
    prompt.write_text(prompt.read_text() + "\n고유명사는 영어 그대로 둡니다.\n")
    async with open_app(settings, clock=lambda: NOW) as app:
        await app.digests.build(W38, top_n=2)
    assert fake_claude.calls == 5  # the prompt is part of the key

    async with open_app(settings.model_copy(update={"model": "claude-opus-5"}), clock=lambda: NOW) as app:
        await app.digests.build(W38, top_n=2)
    assert fake_claude.calls == 7  # the model is part of the key too


async def test_changed_abstract_retranslates_that_paper_only(
    app: App, fake_claude: FakeClaude, fake_hf: FakeHF
) -> None:
    await app.digests.build(W38, top_n=3)
    top = max(fake_hf.weeks["2025-W38"], key=lambda item: item["paper"]["upvotes"])
    top["paper"]["summary"] += " A corrected sentence."
    await app.digests.build(W38, top_n=3, refresh=True)
    assert fake_claude.calls == 4


async def test_translator_direct_cache_hit(app: App, fake_claude: FakeClaude) -> None:
    assert app.translator is not None
    paper = Paper(id="2509.00001", title="T", abstract="We gain 12.5% on 3 tasks. " * 5, upvotes=1)
    first = await app.translator.translate(paper, week=W38)
    assert first is not None
    assert await app.translator.cached([paper]) == {paper.id: first}
    other = dataclasses.replace(paper, abstract="We gain 12.6% on 3 tasks. " * 5)
    assert await app.translator.cached([other]) == {}


@pytest.mark.parametrize(
    ("source", "translation", "missing"),
    [
        ("39.9% on A and 43.3% on B", "A에서 39.9%, B에서 43.3%", []),
        ("39.9% on A", "A에서 39.9 %", []),
        ("39.9% on A", "A에서 39.9", ["39.9%"]),
        ("1,000 samples", "1000개의 샘플", []),
        ("over 10 benchmarks", "10개 벤치마크", []),
        ("over 10 benchmarks", "열 개 벤치마크", ["10"]),
        ("Qwen2.5 and GPT-4o", "Qwen2.5와 GPT-4o", []),
        ("AgentFounder-30B achieves 31.5 Pass@1", "AgentFounder-30B는 Pass@1 31.5를", []),
    ],
)
def test_missing_numbers(source: str, translation: str, missing: list[str]) -> None:
    assert missing_numbers(source, translation) == missing


def test_numbers_in_ignores_names() -> None:
    assert {str(n) for n in numbers("Qwen2.5 beats Llama3 by 4.2%", korean=False)} == {"4.2%"}


def test_hangul_share() -> None:
    assert hangul_share("대규모 언어 모델(LLM)은 강력하다") > 0.7
    assert hangul_share("Large language models are strong") == 0.0
    assert hangul_share("") == 0.0


async def test_redis_lost_mid_build_is_one_store_error(
    fake_claude: FakeClaude, fake_hf: FakeHF, tmp_path: Path, settings: Settings
) -> None:
    """Redis dies while Claude is answering: the build fails with StoreError, not an ExceptionGroup."""
    port = free_port()
    proc = await start_redis_server(port)
    try:
        throwaway = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        fake_claude.gate.clear()  # Claude thinks until the gate opens
        async with open_app(throwaway, clock=lambda: NOW) as app:
            build = asyncio.create_task(app.digests.build(W38, top_n=3))
            await fake_claude.wait_for(lambda: fake_claude.in_flight == 3)  # the snapshot is saved, Claude asked
            proc.terminate()
            await proc.wait()
            fake_claude.gate.set()
            with pytest.raises(StoreError):
                await build
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


@pytest.mark.parametrize(
    ("source", "translation", "foreign"),
    [
        ("See github.com/org/repo for code.", "코드는 github.com/org/repo 에 있다.", []),
        ("Code: https://github.com/org/repo.", "코드: https://github.com/org/repo.", []),
        ("A method.", "자세한 내용은 https://evil.example/login 에서 확인하라.", ["https://evil.example/login"]),
        ("A method.", "evil.example 에 로그인하라.", ["evil.example"]),
        ("A method.", "Qwen2.5와 GPT-4o, 예: e.g. 3.5B 모델", []),
        ("Hosted at HuggingFace.co/models.", "huggingface.co/models 에 공개했다.", []),
    ],
)
def test_links_the_paper_never_had(source: str, translation: str, foreign: list[str]) -> None:
    assert foreign_links(source, translation) == foreign


async def test_a_malformed_answer_never_crashes_a_build(app: App, fake_claude: FakeClaude) -> None:
    fake_claude.default = "html"  # a proxy answering 200 with its own page, every time
    digest = await app.digests.build(W38, top_n=3)
    assert [item.status for item in digest.items] == [Status.PENDING] * 3
    fake_claude.default = "empty"
    assert (await app.digests.build(W38, top_n=3)).pending


async def test_a_partial_answer_is_not_frozen(settings: Settings, fake_hf: FakeHF) -> None:
    """Hugging Face answers a finished week with 2 usable papers once; once it recovers, the digest has them all."""
    now = [NOW]
    full = fake_hf.weeks["2025-W38"]
    fake_hf.weeks["2025-W38"] = full[:2]
    async with open_app(settings, clock=lambda: now[0]) as app:
        assert len((await app.digests.build(W38)).items) == 2
        fake_hf.weeks["2025-W38"] = full  # Hugging Face is well again
        assert len((await app.digests.build(W38)).items) == 2  # kept a little while…
        now[0] += timedelta(minutes=5)
        assert await app.digests.cached(W38) is None  # …then asked again, by views too
        assert len((await app.digests.build(W38)).items) == 10
        now[0] += timedelta(days=30)
        assert len((await app.digests.build(W38)).items) == 10  # and that one is frozen
    assert fake_hf.api_calls == 2
