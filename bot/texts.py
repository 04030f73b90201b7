"""Every Korean text people see in chats: users' answers, admins' notices. Telegram HTML; every value
put into a text is escaped by the caller (render.esc) unless it is ours (a week, a number)."""

from __future__ import annotations

# --- commands (shown by Telegram's command menu) ----------------------------------------------------

COMMANDS = (
    ("week", "주간 인기 논문 다이제스트 (예: /week 2025-W38)"),
    ("latest", "지난주 다이제스트"),
    ("subscribe", "매주 받아 보기"),
    ("paper", "논문 한 편 번역 (예: /paper 2509.13310)"),
    ("search", "지난 다이제스트에서 논문 찾기 (예: /search 확산 모델)"),
    ("ask", "논문에 질문하기 (예: /ask 2509.13310 데이터셋은?)"),
    ("settings", "이 대화의 다이제스트 설정 (편수·요일·형식·관심 주제)"),
    ("topics", "관심 주제 (예: /topics 확산 모델, RL)"),
    ("unsubscribe", "구독 해지"),
    ("help", "도움말"),
    ("start", "소개"),
)

# --- general -------------------------------------------------------------------------------------

EXAMPLES = "예: <code>/week 2025-W38</code>, <code>/week 2025-09-15</code>, <code>/week 지난주</code>"
WELCOME = (
    "👋 <b>HF Weekly</b>는 매주 Hugging Face 인기 논문 Top 10을 Claude로 한국어 번역·요약해 "
    "보내 드리는 봇입니다.\n\n"
    "/week [주] — 그 주의 다이제스트 (예: /week 2025-W38)\n"
    "/latest — 지난주 다이제스트\n"
    "/subscribe — 매주 받아 보기 (기본: 월요일 아침)\n"
    "/paper 2509.13310 — 어떤 논문이든 한국어로 (arXiv·Hugging Face 링크를 그냥 보내도 됩니다)\n"
    "/search 확산 모델 — 지난 다이제스트에서 논문 찾기\n"
    "/settings — 편수·받는 요일과 시간·형식·관심 주제 고르기\n"
    "/unsubscribe — 구독 해지\n"
    "/help — 도움말"
)
WELCOME_BACK = "\n\n✅ 구독을 다시 시작했습니다. 받는 때와 형식은 /settings 에서 바꿀 수 있어요."
WELCOME_SUBSCRIBED = "\n\n✅ 이미 구독 중입니다."
BUTTON_SUBSCRIBE = "📬 구독하기"
BUTTON_LAST_WEEK = "📰 지난주 다이제스트"
HELP = (
    "<b>사용법</b>\n\n"
    "/week [주] — 그 주의 인기 논문 다이제스트\n"
    "  <code>/week 2025-W38</code> · <code>/week 2025-09-15</code> (그 날짜가 속한 주) · "
    "<code>/week 지난주</code> · <code>/week 이번주</code>\n"
    "/latest — 지난주 다이제스트\n"
    "/subscribe — 이 대화에서 매주 받아 보기 (그룹에서는 관리자만)\n"
    "/subscribe @채널 또는 /subscribe -100… — 내가 관리하는 채널에 보내기 (봇과의 개인 대화에서)\n"
    "/unsubscribe — 구독 해지 (채널은 /unsubscribe @채널)\n"
    "/settings — 이 대화의 다이제스트: 편수(5·10·20), 받는 요일과 시간, 형식(간단히·요약·자세히), "
    "영어 제목, 관심 주제, 일시 정지 (채널은 개인 대화에서 /settings @채널)\n"
    "/topics 확산 모델, RL, robot — 관심 주제 (맞는 논문에 ⭐, 맨 앞에). 지우기: /topics 없음\n"
    "/paper &lt;id 또는 링크&gt; — 어떤 논문이든 한국어 제목·요약·초록 전체 번역. 예: "
    "<code>/paper 2509.13310</code>, <code>/paper arxiv.org/abs/2509.13310v2</code>, "
    "<code>/paper huggingface.co/papers/2509.13310</code> (개인 대화에서는 링크만 보내도 됩니다)\n"
    "/paper 2509.13310 심층 — 논문 본문으로 쓴 심층 요약(문제·방법·결과·한계). 논문 답의 🔎 버튼으로도 볼 수 있어요\n"
    "/search &lt;낱말&gt; — 지난 모든 주에서 찾기 (한국어·영어)\n"
    "/ask &lt;id 또는 링크&gt; &lt;질문&gt; — 논문 본문에서 찾은 답 (근거가 된 절과 함께). 봇이 보낸 논문 메시지에 "
    "답장으로 물어도 됩니다. 예: <code>/ask 2509.13310 어떤 데이터셋으로 실험했나요?</code>\n"
    "다른 대화에서 <code>@봇이름 2025-W38</code>, <code>@봇이름 2509.13310</code>, <code>@봇이름 확산 모델</code> "
    "으로 논문을 바로 공유할 수 있어요.\n\n"
    "다이제스트의 ‘전문 번역’ 링크를 누르면 논문 초록 전체의 한국어 번역을 볼 수 있습니다.\n\n"
    "번역은 Claude가 하고, 원문에 없는 이름·숫자가 들어간 번역은 보내지 않습니다. 그래도 틀린 곳이 보이면 "
    "논문 번역 아래 <b>🚩 번역 오류 신고</b>를 눌러 주세요. 고쳐지면 알려 드리고, 이미 보낸 메시지도 고칩니다."
)
ADMIN_HELP = (
    "\n\n<b>관리자</b>\n/status — 상태\n/preview [주] — 구독자가 받을 다이제스트 미리보기\n"
    "/publish [주] — 지금 발행 (아직 받지 않은 대화에만)\n"
    "/retranslate &lt;논문 id&gt; [지시] — 다시 번역하고 보낸 메시지까지 고치기\n"
    "/reports — 독자의 번역 오류 신고 · /reports done &lt;id&gt; — 닫기\n"
    "/glossary — 용어집 (add · remove)"
)
UNKNOWN = "알 수 없는 명령어입니다. /help 를 보내 보세요."
PLAIN_TEXT = "명령어로 말씀해 주세요. 예: /week 2025-W38 — 전체 목록은 /help"
SORRY = "죄송합니다, 처리하는 중에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요."
STORE_DOWN = "잠시 후 다시 시도해 주세요. (저장소에 연결할 수 없습니다)"

# --- weeks and papers --------------------------------------------------------------------------------

BUILDING = "⏳ {week} 다이제스트를 생성 중… (처음 만드는 주는 1분 정도 걸립니다)"
INTERRUPTED = "⏹ 봇이 다시 시작하느라 만들기를 멈췄습니다. 잠시 후 다시 보내 주세요."
RATE_LIMITED = (
    "새로운 주의 다이제스트는 {window}분에 {limit}번까지 만들 수 있어요. 잠시 후 다시 시도해 주세요.\n"
    "이미 만들어진 주는 언제든 볼 수 있습니다. 예: /latest"
)
FUTURE = "{week}는 아직 끝나지 않은 미래의 주입니다. 가장 최근에 끝난 주는 {last}입니다.\n" + EXAMPLES
NO_SUCH_WEEK = "{year}년에는 {weeks}주까지만 있습니다.\n" + EXAMPLES
BAD_DATE = "‘{text}’은(는) 올바른 날짜가 아닙니다.\n" + EXAMPLES
NOT_A_WEEK = "‘{text}’은(는) 알아볼 수 있는 주가 아닙니다.\n" + EXAMPLES
TOO_EARLY = "Hugging Face 인기 논문은 {first}(2023년 5월)부터 있습니다. 그 전의 주는 볼 수 없어요.\n" + EXAMPLES
EMPTY = "{week}에는 Hugging Face에 올라온 논문이 없습니다."
SOURCE_DOWN = "Hugging Face에서 {week} 논문 목록을 가져오지 못했습니다. 잠시 후 다시 시도해 주세요."
PAPER_UNKNOWN = "그 논문을 찾지 못했습니다. /latest 에서 최근 논문을 볼 수 있어요."

# --- subscriptions -----------------------------------------------------------------------------------

REFUSALS = {
    "group_admins_only": "그룹의 구독 설정은 그룹 관리자만 바꿀 수 있어요.",
    "channel_from_private": "채널 구독은 봇과의 개인 대화에서 <code>/subscribe @채널</code> 로 해 주세요.",
    "not_a_channel_name": (
        "채널은 <code>@채널이름</code> 또는 <code>-100</code>으로 시작하는 id로 알려 주세요.\n"
        "예: /subscribe @hf_weekly_ko"
    ),
    "channel_not_found": (
        "채널 {name}을(를) 찾지 못했습니다. 공개 채널이면 @이름이 맞는지, "
        "비공개 채널이면 봇을 먼저 채널 관리자로 추가했는지 확인해 주세요."
    ),
    "not_a_channel": "{name}은(는) 채널이 아닙니다. 그룹은 그 그룹 안에서 /subscribe 해 주세요.",
    "bot_not_admin": (
        "봇이 채널 {name}의 관리자가 아닙니다. 채널 설정 → 관리자 → 관리자 추가에서 "
        "@{bot}을(를) 추가하고 ‘메시지 게시’ 권한을 주세요."
    ),
    "bot_cannot_post": "봇에게 채널 {name}의 ‘메시지 게시’ 권한이 없습니다. 관리자 설정에서 권한을 켜 주세요.",
    "not_channel_admin": "채널 {name}의 관리자만 구독을 바꿀 수 있어요.",
}
SUBSCRIBED = {
    "started": "✅ 구독을 시작했습니다. 매주 {when} {where}에 한국어 다이제스트를 보내 드릴게요. 편수·요일·형식·관심 주제는 /settings, 해지는 /unsubscribe",
    "restarted": "✅ 구독을 다시 시작했습니다. 매주 {when} {where}에 한국어 다이제스트를 보내 드릴게요. 편수·요일·형식·관심 주제는 /settings, 해지는 /unsubscribe",
    "already": "이미 구독 중입니다. 매주 {when} {where}에 다이제스트가 옵니다. 바꾸려면 /settings",
    "moved": "✅ 다이제스트를 받을 곳을 {where}(으)로 옮겼습니다.",
}
SUBSCRIBED_PAUSED = "\n⏸ 지금은 일시 정지 상태입니다. 다시 받으려면 /settings"
HERE_PRIVATE, HERE_GROUP, HERE_TOPIC, HERE_CHANNEL = "이 대화", "이 그룹", "이 주제", "채널 {name}"
UNSUBSCRIBED = "구독을 해지했습니다. {where}에는 더 이상 다이제스트가 가지 않습니다."
NOT_SUBSCRIBED = "{where}은(는) 구독하고 있지 않습니다. 구독하려면 /subscribe"

# --- admins ------------------------------------------------------------------------------------------

PUBLISH_NOT_ENDED = "{week}는 아직 끝나지 않았습니다. 끝난 주만 발행할 수 있어요."
PUBLISH_STARTED = "📤 {week} 발행을 시작합니다 (아직 받지 않은 대화에만 보냅니다)."
PUBLISH_HELD = "⏸ {week}를 발행하지 않았습니다: {reason}"
PUBLISH_BUSY = "{week}는 지금 다른 곳에서 발행 중입니다."
PUBLISH_DONE = (
    "✅ {week} 발행 끝: 대화 {r.chats} · 새로 보냄 {r.sent} · 이미 보냄 {r.already} · 실패 {r.failed} · "
    "결과 불명 {r.unknown} · 다시 시도 대기 {r.waiting} · 비활성 {r.inactive} · 번역 대기 {r.pending_papers}편"
)
PREVIEW_FAILED = "미리보기를 만들 수 없습니다: {reason}"
PREVIEW_HEAD = "👀 {week} 미리보기 — 구독자에게는 아래 메시지가 갑니다. (대기 중 번역 {pending}편)"
NOTICE_LATE = "⏰ {at}에 보내려던 알림입니다 (그때 텔레그램이 응답하지 않았습니다).\n\n"
ALERT = "⚠️ 처리 중 오류: {kind}\n{detail}\n(10분 동안 같은 종류는 다시 알리지 않습니다)"
JOB_FAILED = "⚠️ 정기 작업(발행·복구)이 실패했습니다. 1분 뒤 다시 시도합니다: {kind}\n{detail}\n(10분 동안 같은 종류는 다시 알리지 않습니다)"

# --- notices to admins from the weekly job (plain text) ------------------------------------------------

HELD = "⏸ {week} 발행을 보류했습니다: {reason}\n30분마다 다시 확인합니다 (최대 12시간)."
HOLD_GIVEN_UP = "❌ {week}: 12시간 동안 소스가 준비되지 않아 발행을 포기했습니다. /publish {week} 로 직접 보낼 수 있습니다.\n{reason}"
PENDING_SENT = "⏳ {week}: 번역 대기 {count}편을 원문으로 보냈습니다. 번역되면 보낸 메시지를 고칩니다."
CHATS_GIVEN_UP = "❌ {week}: 몇 시간 동안 실패해 포기한 대화 {count}곳\n{chats}"
RUN_OWED = "⚠️ 발행 결과 {line}\n다시 시도: {retry}\n오류: {errors}"
LEDGER_UNREADABLE = (
    "⚠️ {week}: 발송 기록을 읽을 수 없는 대화 {count}곳을 건너뛰었습니다 (다시 보내지 않음). "
    "새 버전이 쓴 기록일 수 있습니다: 버전을 확인하세요.\n{chats}"
)
PLAIN_RESENT = "⚠️ {week}: 텔레그램이 HTML을 거부해 평문으로 다시 보냈습니다 ({chat}): {reason}"
CHANNEL_UNREACHABLE = "⚠️ 설정된 채널 {chat}에 보낼 수 없습니다: {reason}"
CHANNEL_UNKNOWN = "⚠️ 설정된 채널 {chat}을(를) 찾지 못해 건너뜁니다 (HFWEEKLY_CHANNELS를 확인하세요): {reason}"
HEAL_GIVEN_UP = "⚠️ {week}: 72시간 동안 번역되지 않은 논문이 있어 자동 수정을 멈춥니다."
HEALED = "✅ {week}: 대기 중이던 번역을 마쳤습니다. 보낸 메시지는 편집기가 고칩니다 (진행은 /status)."

# --- /status -----------------------------------------------------------------------------------------

STATUS_HEAD = "📊 <b>상태</b>\n\n<b>구독</b>"
STATUS_KIND = "{kind}: 활성 {active} · 비활성 {inactive}"
STATUS_CACHE = "<b>번역 캐시</b>: {count}편"
STATUS_USAGE = (
    "<b>이번 주({week}) Claude 사용</b>: 호출 {u.calls} · 입력 {u.input_tokens:,} · 출력 {u.output_tokens:,} · "
    "캐시 읽기 {u.cache_read_input_tokens:,} · 캐시 쓰기 {u.cache_creation_input_tokens:,} 토큰"
)
STATUS_ON_DEMAND = (
    "<b>이번 주 주문형 번역</b>(/paper, 다이제스트와 별도): 호출 {u.calls} · 입력 {u.input_tokens:,} · "
    "출력 {u.output_tokens:,} 토큰"
)
STATUS_RUNS = "<b>정기 발행</b>"
STATUS_LAST = (
    "지난 발행: {r.week} ({started}) — 대화 {r.chats} · 보냄 {r.sent} · 이미 보냄 {r.already} · 실패 {r.failed} · "
    "결과 불명 {r.unknown} · 다시 시도 대기 {r.waiting} · 비활성 {r.inactive} · 포기 {r.gave_up} · "
    "번역 대기 {r.pending_papers}편"
)
STATUS_NO_LAST = "지난 발행: 없음"
STATUS_PAID = (
    "유료 발행(paid broadcast): {week} 메시지 {count:,}건 — 초당 약 30건을 넘은 만큼만 건당 0.1 스타, "
    "많아야 {stars:,.1f} 스타"
)
STATUS_NEXT = "다음 발행: {when} ({schedule})"
STATUS_HF = "Hugging Face 호출: 지금 5분 창에 {calls:,}회, 모든 프로세스 합계 ({token})"
STATUS_HF_TOKEN = "HF_TOKEN 사용: 토큰 계정의 한도"
STATUS_HF_ANONYMOUS = "토큰 없음: 익명 한도는 5분에 약 500회, HF_TOKEN을 설정하면 늘어납니다"
STATUS_RETRY = "다시 시도할 대화가 있는 주: {week} ({when})"
STATUS_HOLD = "보류: {week} — {reason} ({state})"
STATUS_HOLD_GIVEN_UP = "포기함 (/publish 로 직접 보낼 수 있음)"
STATUS_HOLD_RETRYING = "30분마다 다시 확인 중"
STATUS_HEALING = "번역 대기 중인 주: {weeks}"
STATUS_LEADER = "정기 작업·폴링을 맡은 프로세스: {leader} (이 답은 {this})"
STATUS_NO_LEADER = "없음"

# --- /settings and /topics ---------------------------------------------------------------------------

FORMS = {"brief": "간단히", "summary": "요약", "full": "자세히"}
SETTINGS_HEAD = "⚙️ <b>{where}의 다이제스트 설정</b>"
SETTINGS_BODY = (
    "편수: {count}편\n받는 때: {when}\n형식: {form}\n영어 제목: {english}\n관심 주제: {topics}\n상태: {state}"
)
SETTINGS_NOT_SUBSCRIBED = "\n\n구독하지 않아 매주 보내지는 않습니다. 이 설정은 /week 에도 쓰입니다. 구독: /subscribe"
SETTINGS_ONLY_TOPICS = " (관심 주제 논문만)"
NO_TOPICS = "없음"
SHOWN, HIDDEN = "보이기", "숨기기"
STATE_ON, STATE_PAUSED = "받는 중", "⏸ 일시 정지 (설정은 그대로 둡니다)"
SETTINGS_WHEN = "📅 받을 요일을 고르세요. (시간은 {tz} 기준)"
SETTINGS_HOUR = "🕘 {day}요일 몇 시에 받을까요? ({tz} 기준)"
SETTINGS_TOPICS = (
    "🏷 <b>관심 주제</b>: {topics}\n\n"
    "바꾸려면 쉼표로 나눠 보내세요. 예: <code>/topics{target} 확산 모델, RL, robot</code>\n"
    "최대 10개, 한 주제에 40자까지. 제목이나 초록에 주제가 나오는 논문에 ⭐을 붙이고 맨 앞에 모읍니다.\n"
    "아래 버튼을 누르면 그 주제를 지웁니다."
)
BUTTON_COUNT, BUTTON_FORM = "편수", "형식"
BUTTON_WHEN = "📅 받는 때: {when}"
BUTTON_DEFAULT_SLOT = "기본 일정"
BUTTON_TOPICS = "🏷 관심 주제 ({count})"
BUTTON_ENGLISH = "영어 제목: {state}"
BUTTON_ONLY = "관심 주제만: {state}"
BUTTON_ON, BUTTON_OFF = "켬", "끔"
BUTTON_PAUSE, BUTTON_RESUME = "⏸ 일시 정지", "▶️ 다시 받기"
BUTTON_BACK = "← 설정으로"
BUTTON_CLEAR_TOPICS = "모두 지우기"
SETTINGS_SAVED = "저장했습니다"
SETTINGS_STALE = "이 버튼은 더 이상 쓸 수 없어요. /settings 를 다시 보내 주세요."
SETTINGS_ADMINS_ONLY = "그룹의 설정은 그룹 관리자만 바꿀 수 있어요."
SETTINGS_NOT_CHANNEL_ADMIN = "채널 {name}의 관리자만 설정을 바꿀 수 있어요."
SETTINGS_CHANNEL_IN_GROUP = "채널 설정은 봇과의 개인 대화에서 <code>/settings @채널</code> 로 해 주세요."
SETTINGS_ONLY_NEEDS_TOPICS = "먼저 관심 주제를 정해 주세요. 예: /topics 확산 모델, RL"
TOPICS_NOW = (
    "관심 주제: {topics}\n바꾸기: <code>/topics 확산 모델, RL, robot</code> · 지우기: <code>/topics 없음</code>"
)
TOPICS_SET = (
    "✅ {where}의 관심 주제: {topics}\n이 주제가 나오는 논문에 ⭐을 붙이고 맨 앞에 모읍니다. 설정 전체: /settings"
)
TOPICS_CLEARED = "✅ {where}의 관심 주제를 지웠습니다."
TOPICS_CLEAR_WORDS = frozenset({"없음", "지우기", "clear", "none", "-"})
TOPIC_ERRORS = {
    "empty": "관심 주제를 쉼표로 나눠 적어 주세요. 예: <code>/topics 확산 모델, RL, robot</code>",
    "too_long": "‘{topic}’은(는) 너무 깁니다. 한 주제는 40자까지 쓸 수 있어요. 아무것도 바꾸지 않았습니다.",
    "too_many": "관심 주제는 10개까지 정할 수 있어요. 아무것도 바꾸지 않았습니다.",
}

# --- /paper, /search, inline -------------------------------------------------------------------------

PAPER_EXAMPLE = "예: <code>/paper 2509.13310</code> · <code>/paper arxiv.org/abs/2509.13310</code> · <code>/paper huggingface.co/papers/2509.13310</code>"
PAPER_USAGE = "번역할 논문의 arXiv id나 링크를 알려 주세요.\n" + PAPER_EXAMPLE
PAPER_BAD_ID = "‘{text}’은(는) arXiv 논문 id나 링크가 아닙니다.\n" + PAPER_EXAMPLE
PAPER_NOT_FOUND = "arXiv와 Hugging Face 어디에도 {paper} 논문이 없습니다. id를 확인해 주세요.\n" + PAPER_EXAMPLE
PAPER_WITHDRAWN = "{paper}는 저자가 철회한 논문이라 번역할 초록이 없습니다."
PAPER_SOURCE_DOWN = "지금은 Hugging Face와 arXiv에서 {paper} 논문을 가져올 수 없습니다. 잠시 후 다시 시도해 주세요."
PAPER_TRANSLATING = "⏳ {paper} 번역 생성 중…"
PAPER_USER_LIMIT = (
    "새 논문 번역은 하루 {limit}편까지예요 (오늘 남은 횟수: 0). 이미 번역된 논문은 언제든 볼 수 있고, "
    "내일 다시 쓸 수 있습니다. 원문: {link}"
)
PAPER_BUDGET = "오늘은 주문형 번역 한도를 모두 써서 새 번역을 만들 수 없어요. 내일 다시 시도해 주세요. 원문: {link}"
PAPER_REMAINING = "\n\n(오늘 새로 번역할 수 있는 논문: {remaining}편 남음)"
PAPER_FAILED = "\n\n번역을 만들지 못해 원문을 보여 드립니다. 잠시 후 다시 <code>/paper {paper}</code> 해 보세요."
SEARCH_USAGE = (
    "찾을 낱말을 적어 주세요. 예: <code>/search 확산 모델</code>, <code>/search reinforcement learning</code>"
)
SEARCH_TOO_LONG = "검색어는 100자까지 쓸 수 있어요."
SEARCH_HEAD = "🔎 ‘{query}’ 검색 결과 {count}건"
SEARCH_NONE = "🔎 ‘{query}’에 맞는 논문을 찾지 못했습니다. 다른 낱말로 찾아 보세요."
SEARCH_FROM_HF = "Hugging Face 검색 결과 (아직 번역 전)"
INLINE_DIGEST = "{week} 다이제스트 전체"
INLINE_NOT_BUILT = "{week} 다이제스트는 아직 만들어지지 않았어요"
INLINE_OPEN_BOT = "봇에서 보기"
INLINE_UNKNOWN_PAPER = "{paper}: 봇에서 번역 보기"
BUTTON_FULL = "전문 번역 보기"
BUTTON_TRANSLATE = "번역 보기"


# --- the digest and paper answers (bot/layout.py, bot/render.py) ---------------------------------

PENDING_KO = "번역 준비 중"
NO_ABSTRACT_KO = "초록이 없어 번역·요약하지 않았습니다"  # the source gave nothing to summarise
NO_ABSTRACT_LINE = "📄 " + NO_ABSTRACT_KO + ". 원문을 확인해 주세요."
NO_ABSTRACT_SHORT = "📄 초록 없음"
CORRECTED_KO = "✏️ 번역 수정됨"  # an admin corrected the translation (bot/translate.py, /retranslate)
AI_NOTICE = "🤖 Claude가 번역·요약한 AI 번역입니다. 정확한 내용은 원문을 확인해 주세요."
ORIGINAL_NOTICE = "번역하지 않은 원문입니다."
STARRED_SECTION = "<b>⭐ 관심 주제</b>"
OTHERS_SECTION = "<b>그 밖의 인기 논문</b>"
FULL_TRANSLATION_LINK = "전문 번역"
ABSTRACT_HEADING = "<b>초록 번역</b>"
SUMMARY_HEADING = "<b>요약</b>"
DIGEST_HEADER = "<b>🤗 Hugging Face 주간 인기 논문 Top {shown}</b>\n{when}"
DIGEST_HEADER_TOPICS = "<b>🤗 Hugging Face 주간 논문 · 관심 주제 {shown}편</b>\n{when}\n관심 주제: {topics}"
DIGEST_HEADER_FALLBACK = (
    DIGEST_HEADER
    + "\n이번 주 인기 논문 {pool}편 중 관심 주제({topics})에 맞는 논문이 없어 인기 논문 {shown}편을 보여 드립니다."
)
DIGEST_SOURCE = '출처: <a href="{url}">{shown}</a>\n{notice}'
DATE_RANGE = "{start} ~ {end}"
DATE_SAME_YEAR = "{month}월 {day}일"
DATE_FULL = "{year}년 {month}월 {day}일"
TRANSLATED_ON = " · {day} 번역"
CORRECTED_ON = " · {day} 수정"
# The weekly text file (`hfweekly digest`): plain text, not Telegram HTML.
FILE_HEADER = "Hugging Face 주간 인기 논문 Top {count} ({week}) - {kind}"
FILE_TRANSLATED, FILE_ORIGINAL = "번역본", "원문"
FILE_SOURCE = "출처: {url}"
FILE_KOREAN_HEADING = "## 초록 (Korean)"
FILE_PENDING = "(번역 준비 중입니다. 번역이 끝나면 이 자리에 한국어 초록이 실립니다.)"
FILE_UNTRANSLATED = "(번역하지 않았습니다: --no-translate)"
FILE_NO_ABSTRACT = "(" + NO_ABSTRACT_KO + ".)"
# On-demand translation (bot/ondemand.py): told to admins.
BUDGET_SPENT = (
    "⚠️ 오늘({today}) 주문형 번역 토큰 예산 {tokens:,}개를 다 썼습니다. "
    "내일까지 새 번역은 멈추고, 주간 다이제스트에는 영향이 없습니다."
)

# --- slots and buttons (bot/slots.py, bot/keyboards.py, bot/handlers/settings_menu.py) -----------

DAYS = ("월", "화", "수", "목", "금", "토", "일")
SLOT_TIME = "{day}요일 {hour}시"
SLOT_MINUTE = " {minute}분"
SLOT_DEFAULT = "기본 일정"
SLOT_DEFAULT_AT = "기본 ({time})"
REPORT_BUTTON = "🚩 번역 오류 신고"
COUNT_BUTTON = "{n}편"
HOUR_BUTTON = "{h}시"

# --- a paper's links (bot/links.py) ----------------------------------------------------------------

CODE_LINK = "코드 ★{stars}"
CODE_LINK_NO_STARS = "코드"
PROJECT_LINK = "프로젝트"
