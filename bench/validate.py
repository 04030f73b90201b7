"""The faithfulness gate over every real paper: false alarms, bad answers caught, CPU per answer.

    python -m bench.validate

- Faithful answers: for each of the 419 papers of the 42 real weeks (tests/data/hf-weeks), the fake
  Claude's faithful translation (each sentence's names and numbers kept, the glossary followed), and
  the four hand-written translations of real abstracts (tests/data/faithful_ko.json). Bar: 0 rejected.
- Crafted bad answers, per paper: an invented model name in the summary; a number of the abstract
  changed into one the paper never states (or, with no number to change, an invented figure); Chinese
  characters, kana and Cyrillic in the Korean; the second half left in English; another paper's
  summary (the next paper's, from 17 on, whose summary names its method or a figure this paper does
  not state); another paper's whole translation. Bar: 100 % rejected. Another paper's summary that
  names nothing (the fake summarises 22 of the 419 as "이 논문은 새로운 방법을 제안하고 …"), only
  what both papers name (Qwen3, End-to-End) or only the glossary's abbreviations (CoT) has nothing a
  check could hold against the paper: those are counted apart, as what the gate cannot see.
- CPU per answer: the whole gate (the JSON, form, faithfulness and the glossary check) on one answer,
  process time, median and p99 over the faithful answers. Bar: <= 1 ms.

Pure CPU: no network, no Redis.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from bench.common import percentile
from bot.config import DEFAULTS
from bot.faithful import gate, unsummarisable
from bot.glossary import Glossary
from bot.models import Paper, Translation
from bot.validate import Rejected
from tests.fakes.anthropic import glossary_of, korean_translation

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d+(?:\.\d+)?")


def message(t: Translation) -> object:
    text = json.dumps(
        {"title_ko": t.title_ko, "summary_ko": t.summary_ko, "abstract_ko": t.abstract_ko}, ensure_ascii=False
    )
    return SimpleNamespace(type="message", content=[SimpleNamespace(type="text", text=text)], stop_reason="end_turn")


def papers() -> list[Paper]:
    return [
        Paper(p["id"], " ".join(p["title"].split()), p["abstract"], 0)
        for week in sorted((DATA / "hf-weeks").glob("*.json"))
        for p in json.loads(week.read_text())["papers"]
    ]


def faithful(paper: Paper, glossary: Glossary) -> Translation:
    a = korean_translation(paper.title, paper.abstract, glossary_of(glossary.prompt_block()))
    return Translation(a["title_ko"], a["summary_ko"], a["abstract_ko"])


def changed_number(paper: Paper, good: Translation) -> Translation:
    """A number of the Korean abstract changed into a value the paper never states."""
    stated = {Decimal(n).normalize() for n in NUMBER.findall(paper.title + " " + paper.abstract)}
    match = NUMBER.search(good.abstract_ko)
    if match is None:
        return replace(good, summary_ko=good.summary_ko.replace("결과는", "정확도가 12.7% 오르고 결과는", 1))
    value = Decimal(match.group(0))
    new = next(
        v for v in (value + step for step in (Decimal("1.3"), Decimal(7), Decimal(113))) if v.normalize() not in stated
    )
    return replace(good, abstract_ko=good.abstract_ko[: match.start()] + str(new) + good.abstract_ko[match.end() :])


def names_something_else(paper: Paper, summary: str, glossary: Glossary) -> bool:
    """Does the summary state a name or a figure that the paper's title and abstract do not, and that
    is no abbreviation of the glossary's (CoT)? A plain reading, independent of the gate: a token with a
    digit or a capital after its first letter."""
    source = f"{paper.title} {paper.abstract}".lower()
    tokens = re.findall(r"[A-Za-z0-9][A-Za-z0-9.+-]*[A-Za-z0-9]|\d", summary)
    return any(
        (re.search(r"\d", t) or re.search(r"[A-Z]", t[1:]))
        and t.lower().rstrip("s") not in source
        and t.lower().rstrip("s") not in glossary.names
        for t in tokens
    )


def bad_answers(paper: Paper, good: Translation, other: Translation, summary_of: Translation) -> dict[str, Translation]:
    middle = len(good.abstract_ko) // 2
    english = paper.abstract.split(". ")
    korean = good.abstract_ko.split(". ")
    return {
        "invented name": replace(good, summary_ko=good.summary_ko.replace("결과는", "GPT-7 대비 결과는", 1)),
        "changed number": changed_number(paper, good),
        "Chinese characters": replace(
            good, abstract_ko=good.abstract_ko[:middle] + " 模型을 " + good.abstract_ko[middle:]
        ),
        "kana": replace(good, summary_ko="この " + good.summary_ko),
        "Cyrillic": replace(good, abstract_ko=good.abstract_ko[:middle] + " модель " + good.abstract_ko[middle:]),
        "English drift": replace(
            good,
            abstract_ko=". ".join(korean[: max(1, len(korean) // 2)]) + ". " + ". ".join(english[len(english) // 2 :]),
        ),
        "another paper's summary": replace(good, summary_ko=summary_of.summary_ko),
        "another paper's translation": other,
    }


def main() -> None:
    glossary = Glossary.load(DEFAULTS / "glossary.toml")
    real = [p for p in papers() if not unsummarisable(p)]
    goods = [(p, faithful(p, glossary)) for p in real]
    week38 = {p.id: p for p in real}
    for pid, t in json.loads((DATA / "faithful_ko.json").read_text()).items():
        if not pid.startswith("_"):
            goods.append((week38[pid], Translation(t["title_ko"], t["summary_ko"], t["abstract_ko"])))

    cpu, false_alarms, misses = [], [], 0
    for paper, good in goods:
        answer = message(good)
        started = time.process_time()
        try:
            translation = gate(paper, answer, glossary)
            misses += bool(glossary.misses(paper.abstract, translation.abstract_ko))
        except Rejected as exc:
            false_alarms.append(f"{paper.id}: {exc}")
        cpu.append((time.process_time() - started) * 1000)

    caught, total, escaped = Counter[str](), Counter[str](), []
    reasons = Counter[str]()
    blind = blind_passed = 0  # other papers' summaries that state nothing this paper does not
    for i, (paper, good) in enumerate(goods[: len(real)]):
        other = goods[(i + 17) % len(real)][1]
        for step in range(17, 17 + len(real)):
            candidate = goods[(i + step) % len(real)][1]
            if names_something_else(paper, candidate.summary_ko, glossary):
                break
            blind += 1
            try:
                gate(paper, message(replace(good, summary_ko=candidate.summary_ko)), glossary)
                blind_passed += 1
            except Rejected:
                pass
        else:
            raise AssertionError(f"no other paper's summary names anything {paper.id} lacks")
        for kind, bad in bad_answers(paper, good, other, candidate).items():
            total[kind] += 1
            try:
                gate(paper, message(bad), glossary)
                escaped.append(f"{kind}: {paper.id}")
            except Rejected as exc:
                caught[kind] += 1
                reasons[exc.reason] += 1

    bad_total, bad_caught = sum(total.values()), sum(caught.values())
    print(f"The gate over {len(real)} papers of {len(list((DATA / 'hf-weeks').glob('*.json')))} real weeks\n")
    print("| answers | count | rejected | glossary misses | bar | result |")
    print("|---|---|---|---|---|---|")
    print(f"| faithful (fake Claude + 4 hand-written) | {len(goods)} | {len(false_alarms)} | {misses} | 0 rejected | "
          f"{'pass' if not false_alarms else 'FAIL'} |")  # fmt: skip
    print(f"| crafted bad | {bad_total} | {bad_caught} ({bad_caught / bad_total:.1%}) | – | 100 % | "
          f"{'pass' if bad_caught == bad_total else 'FAIL'} |")  # fmt: skip
    print("\n| bad answer | caught |")
    print("|---|---|")
    for kind in total:
        print(f"| {kind} | {caught[kind]} of {total[kind]} |")
    print(f"| (apart) another paper's summary stating nothing this paper does not | {blind} | {blind - blind_passed} | "
          "– | not checkable by names and numbers | – |")  # fmt: skip
    print("\n| reason counted | answers |")
    print("|---|---|")
    for reason, n in reasons.most_common():
        print(f"| {reason} | {n} |")
    ok = percentile(cpu, 0.5) <= 1.0
    print("\n| CPU per answer (whole gate) | median | p99 | max | bar | result |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(cpu)} faithful answers | {statistics.median(cpu):.3f} ms | {percentile(cpu, 0.99):.3f} ms | "
          f"{max(cpu):.3f} ms | ≤ 1 ms | {'pass' if ok else 'FAIL'} |")  # fmt: skip
    for line in (false_alarms + escaped)[:20]:
        print("  ", line)


if __name__ == "__main__":
    main()
