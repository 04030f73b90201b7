"""The faithfulness gate, by tables: faithful translations pass (hand-written ones of real abstracts, and
the fake Claude's faithful answers for all 42 real weeks), every crafted bad answer is rejected with the
reason that names what is wrong, and a paper with nothing to summarise is never sent to Claude."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.config import DEFAULTS
from bot.faithful import check, check_text, gate, unsummarisable
from bot.glossary import Glossary, is_name
from bot.models import Paper, Translation
from bot.validate import Rejected, missing_numbers
from tests.fakes.anthropic import glossary_of, korean_translation

DATA = Path(__file__).resolve().parent / "data"
WEEKS = DATA / "hf-weeks"  # the 42 real weeks of ../shared/data/hf-weeks (2025-W33 … 2026-W22)
GLOSSARY = Glossary.load(DEFAULTS / "glossary.toml")
W38 = {p["id"]: Paper(p["id"], " ".join(p["title"].split()), p["abstract"], 0) for p in json.loads((DATA / "hf-weeks" / "2025-W38.json").read_text())["papers"]}  # fmt: skip
FAITHFUL = {
    k: Translation(v["title_ko"], v["summary_ko"], v["abstract_ko"])
    for k, v in json.loads((DATA / "faithful_ko.json").read_text()).items()
    if k[0] != "_"
}
AGENTS = W38["2509.13310"]
GOOD = FAITHFUL["2509.13310"]


def message(translation: Translation) -> object:
    """A Messages response carrying the translation, as the SDK parses one."""
    answer = {f: getattr(translation, f) for f in ("title_ko", "summary_ko", "abstract_ko")}
    text = json.dumps(answer, ensure_ascii=False)
    return SimpleNamespace(type="message", content=[SimpleNamespace(type="text", text=text)], stop_reason="end_turn")


def real_papers() -> list[Paper]:
    """The 419 papers of the 42 real weeks."""
    weeks = sorted(WEEKS.glob("*.json"))
    return [
        Paper(p["id"], " ".join(p["title"].split()), p["abstract"], 0)
        for week in weeks
        for p in json.loads(week.read_text())["papers"]
    ]


@pytest.mark.parametrize("paper_id", sorted(FAITHFUL))
def test_hand_written_faithful_translations_pass_and_follow_the_glossary(paper_id: str) -> None:
    paper, translation = W38[paper_id], FAITHFUL[paper_id]
    assert gate(paper, message(translation), GLOSSARY) == translation
    assert GLOSSARY.misses(paper.abstract, translation.abstract_ko) == []


def test_no_false_alarm_on_any_real_abstract() -> None:
    """Every paper of the real weeks, answered faithfully (each sentence's names and numbers kept, the
    glossary followed): 0 rejections, 0 glossary misses."""
    papers = real_papers()
    glossary = glossary_of(GLOSSARY.prompt_block())
    rejected, missed = [], []
    for paper in papers:
        if unsummarisable(paper):
            continue
        answer = korean_translation(paper.title, paper.abstract, glossary)
        try:
            translation = gate(
                paper, message(Translation(answer["title_ko"], answer["summary_ko"], answer["abstract_ko"])), GLOSSARY
            )
        except Rejected as exc:
            rejected.append((paper.id, str(exc)))
            continue
        missed += [(paper.id, m.describe()) for m in GLOSSARY.misses(paper.abstract, translation.abstract_ko)]
    assert len(papers) == 419
    assert rejected == [] and missed == []


def _with(field: str, old: str, new: str) -> Translation:
    text = getattr(GOOD, field)
    assert old in text, old
    return replace(GOOD, **{field: text.replace(old, new, 1)})


OTHER = FAITHFUL["2509.15221"]  # a faithful translation of another paper
BAD = [
    (
        "invented model",
        _with("summary_ko", "AgentFounder를", "GPT-7 기반의 AgentFounder를"),
        "invented_name",
        '"GPT-7"',
    ),
    ("invented dataset", _with("abstract_ko", "HLE에서", "HLE와 CIFAR-10에서"), "invented_name", '"CIFAR-10"'),
    ("invented acronym", _with("title_ko", "에이전트 확장", "에이전트 확장(ACT)"), "invented_name", '"ACT"'),
    ("changed number", _with("summary_ko", "39.9%", "41.9%"), "changed_number", "41.9"),
    ("rounded number", _with("abstract_ko", "43.3%", "43%"), "numbers_lost", "43.3"),
    ("invented number", _with("summary_ko", "기록한다.", "기록하고 정확도가 12.5% 오른다."), "changed_number", "12.5"),
    ("Chinese characters", _with("abstract_ko", "도구를 사용하고", "도구를 使用하고"), "foreign_script", "han"),
    ("kana", _with("summary_ko", "모델", "モデル"), "foreign_script", "kana"),
    (
        "Cyrillic",
        _with("abstract_ko", "에이전트(agent) 시스템", "에이전트(agent) систем"),
        "foreign_script",
        "cyrillic",
    ),
    (
        "English drift",
        replace(GOOD, abstract_ko=GOOD.abstract_ko.rsplit(". ", 1)[0] + ". " + AGENTS.abstract.rsplit(". ", 1)[1]),
        "english_drift",
        "drifts into English",
    ),
    ("all English", replace(GOOD, abstract_ko=AGENTS.abstract), "not_korean", "not Korean"),
    ("another paper's summary", replace(GOOD, summary_ko=OTHER.summary_ko), "invented_name", "ScaleCUA"),
    ("another paper's translation", OTHER, "numbers_lost", "abstract_ko lost numbers"),
]


@pytest.mark.parametrize(("case", "answer", "reason", "named"), BAD, ids=[b[0] for b in BAD])
def test_every_crafted_bad_answer_is_rejected_naming_what_is_wrong(
    case: str, answer: Translation, reason: str, named: str
) -> None:
    with pytest.raises(Rejected) as caught:
        gate(AGENTS, message(answer), GLOSSARY)
    assert caught.value.reason == reason and named in str(caught.value)


@pytest.mark.parametrize(
    ("english", "korean"),
    [
        ("We improve by ten points on three tasks.", "세 작업에서 10점 향상된다."),  # spelled numbers
        ("It was released in September 2025.", "2025년 9월에 공개되었다."),  # a month
        ("We train on 1M images and 2.5B tokens.", "100만 장의 이미지와 25억 토큰으로 학습한다."),  # scaled
        ("It runs twice as fast.", "2배 빠르게 동작한다."),
        ("A 30B model beats GPT-4o at 1,000 steps.", "30B 모델이 1000단계에서 GPT-4o를 능가한다."),
        ("Qwen2.5-VL-7B-Instruct is the base.", "Qwen2.5-VL을 기반으로 한다."),  # a run of a name's parts
        ("We evaluate on Gemini 2.5 Pro.", "Gemini-2.5-Pro로 평가한다."),  # adjacent tokens joined
        ("Large language models (LLMs) reason.", "대규모 언어 모델(LLM)은 추론한다."),  # plural
        ("Large language models reason.", "LLM은 추론한다."),  # the glossary supplies LLM
        ("It is 3x faster with 4K context.", "4K 문맥에서 3x 빠르다."),  # numbers with units
        ("The loss is at most .5 here.", "손실은 여기서 최대 0.5이다."),  # a leading dot
        ("Greek α and β weights.", "그리스 문자 α와 β 가중치."),  # a script the source has
        ("We set $\\alpha=0.5$ and beta to 2.", "α=0.5, β는 2로 둔다."),  # letters the source names
        ("It improves by 5.3 percentage points.", "5.3%p 향상된다."),
        ("It gains +14.5pp on average.", "평균 +14.5%p 오른다."),
        ("Gains of 20%-30% and 5-10%.", "20~30%, 5–10%의 향상."),  # ranges
        ("A 150M-parameter model.", "1억 5천만 개 파라미터의 모델."),  # Korean units, compound
        ("Scaled to 1.5B tokens.", "15억 토큰으로 확장한다."),
        ("It is 4.5\\% better.", "4.5% 더 낫다."),  # LaTeX's \%
    ],
)
def test_faithful_variations_are_not_flagged(english: str, korean: str) -> None:
    paper = Paper("2509.00001", "A paper", english, 0)
    check(paper, Translation("논문 제목", korean, korean), GLOSSARY)


@pytest.mark.parametrize(
    ("english", "korean", "reason"),
    [
        ("We train on 1M images.", "1000만 장의 이미지로 학습한다.", "changed_number"),  # 10M, not 1M
        ("It runs on HLE.", "HLE와 MMLU에서 실행한다.", "invented_name"),
        ("It runs while HLE waits.", "WHI에서 실행한다.", "invented_name"),  # not a substring of "while"
        ("It improves by 5%.", "6% 향상된다.", "changed_number"),
        ("Greek α weights.", "그리스 문자 α와 Ω 가중치.", None),  # Greek is in the source: allowed
        ("Plain text.", "平文 텍스트.", "foreign_script"),
    ],
)
def test_unfaithful_variations_are_flagged(english: str, korean: str, reason: str | None) -> None:
    paper = Paper("2509.00001", "A paper", english, 0)
    if reason is None:
        check(paper, Translation("논문 제목", korean, korean), GLOSSARY)
        return
    with pytest.raises(Rejected) as caught:
        check(paper, Translation("논문 제목", korean, korean), GLOSSARY)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("english", "korean", "lost"),
    [
        ("39.9% on A and 43.3% on B", "A에서 39.9%, B에서 43.3%", []),
        ("39.9% on A", "A에서 39.9", ["39.9%"]),  # a percentage stays one
        ("We train on 1M images.", "100만 장의 이미지로 학습한다.", []),  # 1M as Korean units
        ("We train on 1M images.", "10만 장의 이미지로 학습한다.", ["1"]),
        ("It improves by 5.3 percentage points.", "5.3%p 향상된다.", []),
        ("Gains of 23-54%.", "23~54%의 향상.", []),
        ("Gains of 23-54%.", "23, 54%의 향상.", []),  # a range's start may be written plain
        ("It is 4.5\\% better.", "4.5% 더 낫다.", []),
        ("It is 4.5\\% better.", "4.6% 더 낫다.", ["4.5%"]),
    ],
)
def test_every_number_of_the_abstract_is_kept(english: str, korean: str, lost: list[str]) -> None:
    assert missing_numbers(english, korean) == lost


@pytest.mark.parametrize(
    ("token", "name"),
    [("GPT-5", True), ("AgentFounder", True), ("BrowseComp-en", True), ("Qwen3", True), ("HLE", True),
     ("Transformer", False), ("model", False), ("e.g", False), ("2025", False), ("I", False)],
)  # fmt: skip
def test_what_looks_like_a_name(token: str, name: bool) -> None:
    assert is_name(token) is name


@pytest.mark.parametrize(
    ("abstract", "worth"),
    [
        ("", False),
        ("Abstract.", False),
        ("No abstract available.", False),
        (
            "This paper has been withdrawn by the author due to a crucial error in the proof of Theorem 2. "
            "Please see the updated version instead.",
            False,
        ),
        ("We propose a method. " * 5, True),
        (AGENTS.abstract, True),
    ],
)
def test_a_source_worth_summarising(abstract: str, worth: bool) -> None:
    assert (unsummarisable(Paper("2509.00001", "T", abstract, 0)) is None) is worth


@pytest.mark.parametrize(
    ("korean", "reason"),
    [
        ("그림 1: AgentFounder-30B가 BrowseComp-en에서 39.9%에 도달한다.", None),
        ("그림 1: GPT-7이 BrowseComp-en에서 39.9%에 도달한다.", "invented_name"),
        ("그림 1: AgentFounder-30B가 BrowseComp-en에서 41.2%에 도달한다.", "changed_number"),
        ("그림 1: AgentFounder-30B가 模型에서 39.9%에 도달한다.", "foreign_script"),
        ("Figure 1 shows that the agent reaches a high score on the web benchmark.", "english_drift"),
    ],
)
def test_check_text_holds_any_korean_text_to_its_english_source(korean: str, reason: str | None) -> None:
    source = "Figure 1: AgentFounder-30B reaches 39.9% on BrowseComp-en."
    if reason is None:
        check_text(source, {"caption_ko": korean}, GLOSSARY)
        return
    with pytest.raises(Rejected) as caught:
        check_text(source, {"caption_ko": korean}, GLOSSARY)
    assert caught.value.reason == reason and "caption_ko" in str(caught.value)
