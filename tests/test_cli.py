"""`hfweekly digest` as a user runs it: a real subprocess against the fakes and the real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.week import IsoWeek
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF
from tests.fakes.telegram_html import parse_telegram_html, utf16_length

ERROR_FRAGMENTS = ("오류", "Error", "error", "Traceback", "Overloaded", "시도 후에도")
STATUS_529 = re.compile(r"(?<![\d.])529(?!\d)")  # Claude's "overloaded" status, not digits of a timestamp


@dataclass
class Result:
    status: int
    out: str
    err: str


async def hfweekly(env: dict[str, str], *args: str, cwd: Path, tty_stderr: bool = False) -> Result:
    command = [sys.executable, "-m", "bot", *args]
    if not tty_stderr:
        proc = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode is not None
        return Result(proc.returncode, out.decode(), err.decode())
    master, slave = os.openpty()
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=slave
    )
    os.close(slave)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace"))


async def test_korean_digest_then_a_warm_second_run(
    cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF, fake_claude: FakeClaude
) -> None:
    first = await hfweekly(cli_env, "digest", "2025-W38", cwd=tmp_path)
    assert first.status == 0, first.err
    lines = first.out.splitlines()
    assert lines[0] == "Hugging Face 주간 인기 논문 Top 10 (2025-W38) - 번역본"
    assert lines[1] == "출처: https://huggingface.co/papers/week/2025-W38"
    assert lines[3] == "--- 1. Scaling Agents via Continual Pre-training ---"
    assert lines[4] == "Link: https://huggingface.co/papers/2509.13310"
    assert first.out.count("## 초록 (Korean)") == 10
    assert "번역 준비 중" not in first.out
    for fragment in ERROR_FRAGMENTS:
        assert fragment not in first.out
    assert not STATUS_529.search(first.out)
    assert fake_claude.calls == 10 and fake_hf.api_calls == 1

    second = await hfweekly(cli_env, "digest", "2025W38", cwd=tmp_path)
    assert second.status == 0, second.err
    assert second.out == first.out
    assert fake_claude.calls == 10 and fake_hf.api_calls == 1  # zero calls the second time


async def test_missing_key_says_so_in_one_line(cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF) -> None:
    env = {k: v for k, v in cli_env.items() if k != "ANTHROPIC_API_KEY"}
    result = await hfweekly(env, "digest", "2025-W38", cwd=tmp_path)
    assert result.status == 2
    assert result.out == ""
    assert result.err.strip().count("\n") == 0
    assert "ANTHROPIC_API_KEY is not set" in result.err and "--no-translate" in result.err
    assert fake_hf.requests == []


async def test_no_translate_prints_english_without_a_key(
    cli_env: dict[str, str], tmp_path: Path, fake_claude: FakeClaude
) -> None:
    env = {k: v for k, v in cli_env.items() if k != "ANTHROPIC_API_KEY"}
    result = await hfweekly(env, "digest", "2025-W38", "--no-translate", "--format", "json", cwd=tmp_path)
    assert result.status == 0, result.err
    data = json.loads(result.out)
    assert [p["status"] for p in data["papers"]] == ["untranslated"] * 10
    assert data["papers"][0]["abstract"].startswith("Large language models (LLMs) have evolved")
    assert fake_claude.calls == 0


async def test_without_redis_url_an_in_process_store_is_used(
    cli_env: dict[str, str], tmp_path: Path, fake_claude: FakeClaude
) -> None:
    env = {k: v for k, v in cli_env.items() if k != "REDIS_URL"}
    result = await hfweekly(env, "digest", "2025-W38", "--top", "2", cwd=tmp_path)
    assert result.status == 0, result.err
    assert result.err.count("nothing persists") == 1
    assert result.out.count("## 초록 (Korean)") == 2
    again = await hfweekly(env, "digest", "2025-W38", "--top", "2", cwd=tmp_path)
    assert again.status == 0
    assert fake_claude.calls == 4  # nothing persisted between the two runs


async def test_the_in_process_notice_shows_at_any_log_level(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env.items() if k != "REDIS_URL"} | {"HFWEEKLY_LOG_LEVEL": "ERROR"}
    result = await hfweekly(env, "digest", "2025-W38", "--no-translate", "--top", "1", cwd=tmp_path)
    assert result.status == 0
    assert result.err.count("nothing persists") == 1


async def test_a_short_week_says_so(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly(cli_env, "digest", "2026-W14", "--no-translate", cwd=tmp_path)
    assert result.status == 0
    assert result.out.count("## Abstract (Original)") == 9
    assert "2026-W14 has only 9 papers (top 10 asked for)" in result.err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL: Value error, must start with redis://"),
        ({"HF_BASE_URL": "huggingface.co"}, "HF_BASE_URL: Value error, must be an http:// or https:// URL"),
        ({"HFWEEKLY_CONFIG_DIR": "/nonexistent"}, "cannot read the translation prompt /nonexistent/prompt.md"),
    ],
)
async def test_bad_configuration_is_one_line(
    cli_env: dict[str, str], tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = await hfweekly(cli_env | env, "digest", "2025-W38", cwd=tmp_path)
    assert result.status == 2
    assert message in result.err
    assert "Traceback" not in result.err and result.out == ""


async def test_json_and_telegram_formats(cli_env: dict[str, str], tmp_path: Path) -> None:
    as_json = await hfweekly(cli_env, "digest", "2025-09-17", "--format", "json", cwd=tmp_path)
    assert as_json.status == 0, as_json.err
    data = json.loads(as_json.out)
    assert data["week"] == "2025-W38" and data["range"] == ["2025-09-15", "2025-09-21"]
    assert [p["rank"] for p in data["papers"]] == list(range(1, 11))
    assert all(p["status"] == "translated" and p["abstract_ko"] for p in data["papers"])

    telegram = await hfweekly(cli_env, "digest", "2025-W38", "--format", "telegram", cwd=tmp_path)
    assert telegram.status == 0, telegram.err
    parts = telegram.out.rstrip("\n").split("\n=====\n")
    assert parts[0].startswith("<b>🤗 Hugging Face 주간 인기 논문 Top 10</b>")
    for part in parts:
        assert utf16_length(parse_telegram_html(part)) <= 4096
    assert sum(part.count("▲ ") for part in parts) == 10


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2025-W54", "2025 has 52 ISO weeks"),
        ("2021-W53", "2021 has 52 ISO weeks"),
        ("hello", "'hello' is not a week"),
        ("2099-W01", "2099-W01 is in the future"),
        ("0000-W01", "0 is out of range"),
        ("9999-12-31", "'9999-12-31' is out of range"),
        ("2023-W02", "Hugging Face has no papers before 2023-W18"),
    ],
)
async def test_bad_weeks_exit_2_with_examples(
    cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF, week: str, message: str
) -> None:
    result = await hfweekly(cli_env, "digest", week, cwd=tmp_path)
    assert result.status == 2
    assert message in result.err
    assert "2025-W38" in result.err and "지난주" in result.err  # examples
    assert result.out == ""
    assert "Traceback" not in result.err
    assert fake_hf.requests == []


async def test_empty_week_exits_1(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly(cli_env, "digest", "2023-W30", cwd=tmp_path)
    assert result.status == 1
    assert "no papers for 2023-W30" in result.err
    assert result.out == ""


async def test_default_week_is_the_last_completed_one(cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF) -> None:
    before = IsoWeek.last_completed(datetime.now(UTC), ZoneInfo("Asia/Seoul"))
    result = await hfweekly(cli_env, "digest", cwd=tmp_path)
    after = IsoWeek.last_completed(datetime.now(UTC), ZoneInfo("Asia/Seoul"))
    assert result.status == 1  # the fake has no papers for it
    asked = fake_hf.requests[0].split("week=")[1].split("&")[0]
    assert asked in {str(before), str(after)}  # (a run across Monday midnight in Seoul sees either)
    assert f"no papers for {asked}" in result.err


async def test_claude_down_prints_pending_papers_and_exits_3(
    cli_env: dict[str, str], tmp_path: Path, fake_claude: FakeClaude
) -> None:
    fake_claude.default = "overloaded"
    for fmt in ("text", "json", "telegram"):
        result = await hfweekly(cli_env, "digest", "2025-W38", "--format", fmt, cwd=tmp_path)
        assert result.status == 3
        assert "10 of 10 papers are pending translation" in result.err
        for fragment in ERROR_FRAGMENTS:
            assert fragment not in result.out, (fmt, fragment)
        assert not STATUS_529.search(result.out), fmt
        assert "번역 준비 중" in result.out or '"status": "pending"' in result.out


async def test_a_proxy_answering_for_claude_leaves_papers_pending(
    cli_env: dict[str, str], tmp_path: Path, fake_claude: FakeClaude
) -> None:
    fake_claude.default = "html"  # 200 with an HTML page: not a Messages response
    result = await hfweekly(cli_env, "digest", "2025-W38", "--top", "2", cwd=tmp_path)
    assert result.status == 3, result.err
    assert "2 of 2 papers are pending translation" in result.err and "Traceback" not in result.err
    assert result.out.count("번역 준비 중") == 2


async def test_refresh_refetches_but_does_not_retranslate(
    cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF, fake_claude: FakeClaude
) -> None:
    assert (await hfweekly(cli_env, "digest", "2025-W38", "--top", "3", cwd=tmp_path)).status == 0
    result = await hfweekly(cli_env, "digest", "2025-W38", "--top", "3", "--refresh", cwd=tmp_path)
    assert result.status == 0
    assert fake_hf.api_calls == 2
    assert fake_claude.calls == 3


async def test_hugging_face_down_exits_1_naming_week_and_url(
    cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF
) -> None:
    fake_hf.api_down = fake_hf.page_down = True
    result = await hfweekly(cli_env, "digest", "2025-W38", cwd=tmp_path)
    assert result.status == 1
    assert "cannot build the digest of 2025-W38" in result.err
    assert f"{fake_hf.url}/papers/week/2025-W38" in result.err
    assert "Traceback" not in result.err and result.out == ""


async def test_redis_unreachable_exits_1(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly({**cli_env, "REDIS_URL": "redis://127.0.0.1:9/0"}, "digest", "2025-W38", cwd=tmp_path)
    assert result.status == 1
    assert "Redis does not answer" in result.err and "REDIS_URL" in result.err
    assert "Traceback" not in result.err


async def test_bad_settings_and_arguments(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly({**cli_env, "HFWEEKLY_TOP_N": "many"}, "digest", "2025-W38", cwd=tmp_path)
    assert result.status == 2
    assert "top_n" in result.err and "Traceback" not in result.err
    result = await hfweekly(cli_env, "digest", "2025-W38", "--top", "0", cwd=tmp_path)
    assert result.status == 2 and "must be between 1 and 50" in result.err
    result = await hfweekly(cli_env, "digest", "2025-W38", "--format", "pdf", cwd=tmp_path)
    assert result.status == 2 and "invalid choice" in result.err


async def test_progress_goes_to_a_terminal_stderr_only(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await hfweekly(cli_env, "digest", "2025-W38", "--top", "3", cwd=tmp_path, tty_stderr=True)
    assert result.status == 0
    assert "fetching 2025-W38 from Hugging Face" in result.err
    assert "translating 3/3" in result.err
    assert "translating" not in result.out and "fetching" not in result.out


async def test_console_script_is_installed(cli_env: dict[str, str], tmp_path: Path) -> None:
    script = shutil.which("hfweekly")
    assert script is not None, "pip install -e . installs the hfweekly command"
    proc = await asyncio.create_subprocess_exec(
        script, "digest", "--help", env=cli_env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert b"--no-translate" in out and b"--refresh" in out


async def heavy_imports(env: dict[str, str], tmp_path: Path, *args: str) -> set[str]:
    """Run `hfweekly ARGS` in a fresh interpreter; which of the heavy libraries it imported."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['hfweekly', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "print('IMPORTED', sorted({m.split('.')[0] for m in sys.modules} & {'anthropic', 'telegram'}))\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    line = next(line for line in out.decode().splitlines() if line.startswith("IMPORTED"))
    return set(json.loads(line.removeprefix("IMPORTED ").replace("'", '"')))


async def test_commands_import_only_what_they_need(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert await heavy_imports(cli_env, tmp_path, "--help") == set()
    assert await heavy_imports(cli_env, tmp_path, "subscribers", "list") == set()
    assert await heavy_imports(cli_env, tmp_path, "digest", "2025-W38", "--top", "2") == {"anthropic"}  # cold
    assert await heavy_imports(cli_env, tmp_path, "digest", "2025-W38", "--top", "2") == set()  # warm: all cached
