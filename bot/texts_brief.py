"""The Korean texts of deep briefs (심층 요약: bot/brief.py, bot/brief_view.py, bot/handlers/brief.py)."""

from __future__ import annotations

BRIEF_BUTTON = "🔎 심층 요약"
BRIEF_LINK = "🔎 심층 요약"
BRIEF_WORDS = ("심층", "deep", "brief")  # `/paper <id> 심층`
BRIEF_HEADING = "🔎 <b>심층 요약</b>"
BRIEF_PARTS = {"problem": "문제", "method": "방법", "results": "결과", "limitations": "한계"}
BRIEF_SOURCES = {"hf_md": "Hugging Face 전문", "arxiv_html": "arXiv HTML 전문", "abstract": "초록만"}
BRIEF_SOURCE_LINE = "📄 근거: {source}"
BRIEF_ABSTRACT_ONLY = "⚠️ 논문 본문을 구하지 못해 초록만으로 쓴 요약입니다."
BRIEF_MADE_ON = " · {day} 작성"
BRIEF_NOTICE = (
    "🤖 Claude가 논문 본문으로 쓴 AI 요약입니다. 이름과 숫자는 본문과 대조했지만, 정확한 내용은 원문을 확인해 주세요."
)
BRIEF_MAKING = "⏳ {paper} 심층 요약을 만드는 중…"
BRIEF_FAILED = (
    "⏳ <b>심층 요약 준비 중</b>: 검증을 통과한 요약을 만들지 못해 원문 초록을 보여 드립니다. "
    "잠시 후 다시 <code>/paper {paper} 심층</code> 해 보세요."
)
BRIEF_REMAINING = "\n\n(오늘 새로 만들 수 있는 번역·요약: {remaining}편 남음)"
BRIEF_USER_LIMIT = (
    "새 논문 번역·심층 요약은 하루 {limit}편까지예요 (오늘 남은 횟수: 0). 이미 만들어진 요약은 언제든 볼 수 있고, "
    "내일 다시 쓸 수 있습니다. 원문: {link}"
)
BRIEF_BUDGET = (
    "오늘은 주문형 번역·요약 한도를 모두 써서 새 심층 요약을 만들 수 없어요. 내일 다시 시도해 주세요. 원문: {link}"
)
BRIEF_UNAVAILABLE = "심층 요약은 지금 쓸 수 없어요 (번역기가 설정되지 않았습니다)."
