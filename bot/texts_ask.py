"""The Korean texts of questions answered from a paper (/ask and replies). Telegram HTML; every value a
person or a paper wrote is escaped by the caller (render.esc)."""

from __future__ import annotations

ASK_EXAMPLE = "예: <code>/ask 2509.13310 어떤 데이터셋으로 실험했나요?</code>"
ASK_USAGE = (
    "논문 id나 링크와 질문을 함께 보내 주세요.\n" + ASK_EXAMPLE + "\n봇이 보낸 논문 메시지에 답장으로 질문해도 됩니다."
)
ASK_BAD_ID = "‘{text}’은(는) arXiv 논문 id나 링크가 아닙니다.\n" + ASK_EXAMPLE
ASK_NO_QUESTION = "{paper} 논문에 대해 무엇이 궁금한지 함께 적어 주세요.\n" + ASK_EXAMPLE
ASK_TOO_LONG = "질문이 너무 깁니다 ({length}자). {limit}자 이내로 줄여서 다시 물어 주세요."
ASK_THINKING = "⏳ {paper} 논문에서 답을 찾는 중…"
ASK_QUESTION = "❓ <b>{question}</b>"
ASK_SECTION = "<i>({section})</i>"
# A cited section's usual English name as a Korean reader knows it: `4.2 Experiments` → `4.2 실험`
# (d2l-ko's and PyTorch Korea's renderings); any other title is cited as the paper writes it.
SECTION_NAMES_KO = {
    "abstract": "초록", "introduction": "서론", "background": "배경", "preliminaries": "사전 지식",
    "related work": "관련 연구", "related works": "관련 연구", "method": "방법", "methods": "방법",
    "methodology": "방법론", "approach": "접근 방법", "experiments": "실험", "experiment": "실험",
    "experimental setup": "실험 설정", "experimental results": "실험 결과", "results": "결과",
    "evaluation": "평가", "analysis": "분석", "ablation study": "절제 연구", "ablation studies": "절제 연구",
    "discussion": "논의", "limitations": "한계", "conclusion": "결론", "conclusions": "결론",
    "future work": "향후 연구", "figures and tables": "그림과 표",
}  # fmt: skip
ASK_ABSTRACT_ONLY = "※ 이 논문은 본문을 구하지 못해 초록만 보고 답했습니다."
ASK_PAPER = "📄 {paper} · {title}"
ASK_REMAINING = "(오늘 남은 질문: {remaining}개 · 이 메시지에 답장하면 이어서 물을 수 있어요)"
ASK_USER_LIMIT = (
    "질문은 하루 {limit}개까지예요. 오늘 남은 질문: 0개.\n{tz} 기준 자정에 다시 채워집니다 (약 {hours}시간 뒤)."
)
ASK_BUDGET = (
    "오늘은 모두가 함께 쓰는 질문·번역 한도를 다 써서 답할 수 없어요. 오늘 남은 질문: 0개.\n"
    "{tz} 기준 자정에 다시 채워집니다 (약 {hours}시간 뒤)."
)
ASK_UNCHECKED = (
    "답을 확인하지 못했습니다: Claude의 답에 논문에서 찾을 수 없는 이름이나 숫자가 있어 보여 드리지 않습니다. "
    "질문을 조금 바꾸어 다시 물어 주세요. (이 질문은 횟수에 세지 않았습니다)"
)
ASK_FAILED = "지금은 답을 만들 수 없습니다. 잠시 후 다시 물어 주세요. (이 질문은 횟수에 세지 않았습니다)"
