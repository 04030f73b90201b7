"""The Korean texts of trust: readers' reports, admins' corrections and glossary, what /status says of
the gate and the editor. Telegram HTML; every value put into a text is escaped by the caller unless it
is ours (a week, a number, a paper id checked by bot/paperid.py)."""

from __future__ import annotations

from bot.models import ReportReason

# --- readers' reports --------------------------------------------------------------------------------

REASONS = {
    ReportReason.MISTRANSLATION: "오역",
    ReportReason.TERM: "용어",
    ReportReason.FACT: "사실과 다름",
    ReportReason.OTHER: "기타",
}
REPORT_ASK = "🚩 <b>{title}</b>\n이 번역에서 무엇이 잘못되었나요?"
REPORT_ALREADY = "이미 신고하셨어요. 검토해서 고쳐지면 알려 드릴게요."
REPORT_LIMIT = "신고는 하루 {limit}건까지 할 수 있어요. 내일 다시 신고해 주세요."
REPORT_NOT_TRANSLATED = "아직 번역되지 않은 논문이에요. 번역이 나온 뒤에 신고할 수 있어요."
REPORT_UNKNOWN = "그 논문을 찾지 못했어요. 이 버튼은 더 이상 쓸 수 없습니다."
REPORT_RECEIVED = "✅ 신고가 접수되었습니다 ({reason}). 관리자가 검토하고, 번역이 고쳐지면 알려 드릴게요."
REPORT_COMMENT_ASK = (
    "✍️ 덧붙일 말이 있으면 이 메시지에 한 줄로 답장해 주세요 (선택).\n예: 두 번째 문장의 ‘정렬’은 ‘정합’이 맞습니다."
)
REPORT_COMMENT_PLACEHOLDER = "어느 문장이 어떻게 틀렸나요?"
REPORT_COMMENT_SAVED = "✅ 덧붙인 말을 신고에 넣었습니다. 고맙습니다."
REPORT_COMMENT_CLOSED = "그 신고는 이미 처리되었어요. 새로 신고하려면 논문 아래 🚩 버튼을 눌러 주세요."
REPORT_COMMENT_MAX = 300  # characters of a comment kept (one line)
REPORT_FIXED = (
    "✏️ 신고하신 논문 {paper}의 번역을 고쳤습니다: {title}\n"
    "이 논문을 보여 드린 메시지도 곧 고쳐집니다. 알려 주셔서 고맙습니다. 다시 보기: /paper {paper}"
)
REPORT_CLOSED = (
    "신고하신 논문 {paper}의 번역을 검토했습니다. 고칠 곳을 찾지 못해 그대로 둡니다. 알려 주셔서 고맙습니다."
)
REPORT_ALERT = "🚩 번역 신고: {paper} ({reason})\n{title}\n신고 목록: /reports · 고치기: /retranslate {paper} 지시"

# --- admins: /reports ----------------------------------------------------------------------------------

REPORTS_HEAD = "🚩 <b>열린 신고 {count}건</b> (논문 {papers}편, 최근 순)"
REPORTS_NONE = "열린 신고가 없습니다."
REPORTS_PAPER = "\n<b>{i}. {paper}</b> — {count}건 ({reasons}) · 최근 {when}\n{title}"
REPORTS_COMMENT = "  · {reason}: ‘{comment}’"
REPORTS_FOOT = (
    "\n고치기: <code>/retranslate &lt;id&gt; 지시</code> · 그대로 두고 닫기: <code>/reports done &lt;id&gt;</code>"
)
REPORTS_DONE = "✅ {paper}의 열린 신고 {count}건을 닫고 신고자 {told}명에게 알렸습니다."
REPORTS_DONE_NONE = "{paper}에는 열린 신고가 없습니다."
REPORTS_USAGE = "사용법: /reports (열린 신고) · <code>/reports done 2509.13310</code> (그 논문의 신고 닫기)"

# --- admins: /retranslate --------------------------------------------------------------------------------

RESET_WORDS = frozenset({"지시 지우기", "지시지우기", "reset", "--reset"})
INSTRUCTION_MAX = 300
INSTRUCTIONS_MAX = 5
RETRANSLATE_USAGE = (
    "사용법: <code>/retranslate 2509.13310 [지시]</code>\n"
    '예: <code>/retranslate 2509.13310 "alignment"은 정렬로, 첫 문장의 주어를 모델로</code>\n'
    "지시는 그 논문의 번역에 계속 쓰입니다 (최대 5개). 지우기: <code>/retranslate 2509.13310 지시 지우기</code>"
)
RETRANSLATE_BAD_ID = "‘{text}’은(는) 논문 id나 링크가 아닙니다.\n" + RETRANSLATE_USAGE
RETRANSLATE_UNKNOWN = "논문 {paper}을(를) 찾지 못했습니다."
RETRANSLATE_TOO_LONG = "지시는 {limit}자까지 쓸 수 있어요. 아무것도 바꾸지 않았습니다."
RETRANSLATE_WORKING = "⏳ {paper} 다시 번역하는 중…"
RETRANSLATE_FAILED = "❌ {paper}을(를) 다시 번역하지 못했습니다: {reason}\n이전 번역을 그대로 둡니다."
RETRANSLATE_DONE = (
    "✅ {paper}을(를) 고쳤습니다: {title}\n지시: {instructions}\n"
    "이 논문을 보여 준 메시지를 고치는 중입니다 ({refs}묶음; 진행은 /status). 신고 {reports}건을 닫고 신고자에게 알렸습니다."
)
NO_INSTRUCTIONS = "없음"

# --- admins: /glossary ---------------------------------------------------------------------------------

GLOSSARY_HEAD = "📖 <b>용어집</b> ({count}개) — 처음 나올 때 한국어(영어)로 씁니다. ✎ 는 대화에서 바꾼 용어"
GLOSSARY_LINE = "{mark}{english} → {first}"
GLOSSARY_USAGE = (
    "\n\n추가·변경: <code>/glossary add reward hacking = 보상 해킹</code>\n"
    "빼기: <code>/glossary remove reward hacking</code>\n"
    "새 번역과 /retranslate 부터 쓰입니다. 이미 캐시된 번역은 다시 번역하지 않습니다."
)
GLOSSARY_ADDED = "✅ 용어집: {english} → {korean} (처음 나올 때 {first}). 새 번역과 /retranslate 부터 씁니다."
GLOSSARY_REMOVED = "✅ 용어집에서 {english}을(를) 뺐습니다."
GLOSSARY_RESTORED = "✅ {english}은(는) 기본 용어집대로 {first}(으)로 돌아갔습니다."
GLOSSARY_UNKNOWN = "용어집에 {english}이(가) 없습니다. 지금 용어: /glossary"
GLOSSARY_PROBLEMS = {
    "english": "영어 용어는 라틴 문자 낱말 1–6개, 60자까지입니다.",
    "korean": "한국어 번역은 1–60자입니다.",
    "hangul": "한국어 번역은 한글로 시작해야 합니다 (영어는 그 뒤 괄호 안에).",
    "parens": "괄호는 끝에 한 번만: 한국어(English)",
    "syntax": "‘영어 = 한국어’ 꼴로 적어 주세요.",
}
GLOSSARY_BAD = "용어를 바꾸지 않았습니다: {problem}\n예: <code>/glossary add reward hacking = 보상 해킹</code>"

# --- /status -----------------------------------------------------------------------------------------------

GATE_REASONS = {
    "invented_name": "원문에 없는 이름",
    "changed_number": "원문에 없는 숫자",
    "foreign_script": "다른 문자(한자 등)",
    "english_drift": "영어로 샘",
    "numbers_lost": "숫자 빠짐",
    "not_korean": "한국어 아님",
    "truncated": "잘림",
    "not_json": "형식 오류",
    "not_a_message": "응답 아님",
    "refused": "거부",
    "empty": "빈 항목",
    "length": "길이",
    "sentences": "요약 문장 수",
    "incomplete": "번역 덜 됨",
    "foreign_link": "원문에 없는 링크",
    "api_error": "Claude API 오류",
    "no_abstract": "초록 없음",
}
STATUS_GATE = "<b>번역 검증</b>(이번 주): 거절 {rejected}{reasons} · 용어집 누락(받아들임) {missed}"
STATUS_GATE_RECENT = "최근 용어집 누락: {items}"
STATUS_REPORTS = "<b>신고</b>: 열린 신고 {count}건 (논문 {papers}편) — /reports"
STATUS_EDITS = (
    "<b>메시지 수정</b>: 대기 {s.pending}개 (묶음 {s.dirty}) · 수정 {s.edited} · 사라져 뺌 {s.gone} · "
    "실패해 다시 시도 {s.failed}"
)
