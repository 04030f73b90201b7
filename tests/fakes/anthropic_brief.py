"""The fake Claude's deep briefs (bot/brief.py): built from the full text in the request, so that tests
can tell which text reached Claude. `method` names the first section after the abstract (the abstract
when it is all there is), `results` carries the numbers of the first Experiments/Results section (else
of the first section), `limitations` says the paper states some when a Limitations section came, and
"논문에 밝힌 한계 없음" otherwise. Unfaithful behaviours: `invented_name` (a model the text lacks in
`method`), `changed_number` (a number the text lacks in `results`)."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![A-Za-z0-9.])\d[\d,]*(?:\.\d+)?%?")
_HEADING = re.compile(r"^## (.+)$", re.MULTILINE)


def sections_of(user_text: str) -> list[tuple[str, str]]:
    """(title, text) of each section our brief prompt sends (`## <title>` then its text)."""
    _, _, body = user_text.partition("\n\n본문:\n")
    marks = list(_HEADING.finditer(body))
    return [
        (m[1], body[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(body)].strip())
        for i, m in enumerate(marks)
    ]


def is_brief(schema: dict[str, object]) -> bool:
    properties = schema.get("properties")
    return isinstance(properties, dict) and "limitations" in properties


def brief_answer(user_text: str, behaviour: str) -> dict[str, str]:
    sections = sections_of(user_text)
    first = next((t for t, _ in sections if t.lower() != "abstract"), sections[0][0] if sections else "본문")
    measured = next((x for t, x in sections if re.search(r"experiment|result", t, re.I)), sections[0][1])
    numbers = list(dict.fromkeys(m.strip(",") for m in _NUMBER.findall(measured)))[:3]
    limited = any("limitation" in t.lower() for t, _ in sections)
    answer = {
        "problem": "이 논문은 중요한 문제를 다루고 그것이 왜 중요한지 설명한다. 문제의 배경을 서론에서 밝힌다.",
        "method": f"저자들은 ‘{first}’ 절부터 방법을 설명한다. 제안한 방법의 단계를 차례로 제시한다.",
        "results": (
            f"주요 결과로 {', '.join(numbers)} 등의 수치를 보고한다. 결과는 기존 방법보다 우수하다."
            if numbers
            else "주요 결과는 본문의 실험에서 제시된다. 결과는 기존 방법보다 우수하다."
        ),
        "limitations": (
            "논문은 한계 절에서 몇 가지 한계를 밝힌다. 더 넓은 평가가 필요하다고 적는다."
            if limited
            else "논문에 밝힌 한계 없음"
        ),
    }
    if behaviour == "invented_name":
        answer["method"] += " 이 방법은 GPT-7을 기반으로 한다."
    elif behaviour == "changed_number":
        answer["results"] = "정확도가 97.3% 오른다. 결과는 기존 방법보다 우수하다."
    return answer
