"""The archive index: built from the frozen weeks, ranked titles first then upvotes, rebuilt when a
week is frozen, no scan per query."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import App
from bot.models import Paper, Snapshot, Translation
from bot.week import IsoWeek

W1, W2 = IsoWeek(2025, 37), IsoWeek(2025, 38)


def snapshot(week: IsoWeek, *papers: Paper) -> Snapshot:
    return Snapshot(week, papers, datetime(2025, 9, 22, tzinfo=UTC), f"https://huggingface.co/papers/week/{week}")


async def test_titles_first_then_upvotes_korean_too(app: App) -> None:
    assert app.archive is not None and app.translator is not None
    in_abstract_popular = Paper("2509.00001", "Scaling laws", "We study diffusion models at scale.", 500)
    in_title = Paper("2509.00002", "Diffusion for video", "We generate video.", 10)
    in_title_popular = Paper("2509.00003", "Latent diffusion models", "Images.", 90)
    curl = Paper("2509.00004", "CURL and RL-free methods", "Contrastive.", 50)
    await app.store.save_snapshot(snapshot(W1, in_abstract_popular, in_title), final=True)
    await app.store.save_snapshot(snapshot(W2, in_title_popular, curl), final=True)
    korean = Translation("영상을 위한 확산 모델", "확산 모델로 영상을 만든다.", "우리는 확산 모델을 제안한다.")
    await app.store.save_translation(app.translator.key(in_title), korean)

    hits = await app.archive.search("diffusion")
    assert [h.paper.id for h in hits] == ["2509.00003", "2509.00002", "2509.00001"]
    assert [h.in_title for h in hits] == [True, True, False] and hits[0].week == W2
    assert [h.paper.id for h in await app.archive.search("확산 모델")] == ["2509.00002"]
    assert [h.paper.id for h in await app.archive.search("RL")] == ["2509.00004"]  # a whole word, not CURL's
    assert [h.paper.id for h in await app.archive.search("models diffusion")] == ["2509.00003", "2509.00001"]
    assert await app.archive.search("teleportation") == []

    later = Paper("2509.00005", "Diffusion everywhere", "Diffusion.", 1000)  # a week frozen since: rebuilt
    await app.store.save_snapshot(snapshot(IsoWeek(2025, 39), later), final=True)
    assert (await app.archive.search("diffusion"))[0].paper.id == "2509.00005"
