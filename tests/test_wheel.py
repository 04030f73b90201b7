"""The install an operator does: build the wheel, install it into a fresh virtual environment, and run
`hfweekly` from a directory outside the checkout (the packaged defaults, not the checkout's files).
And the rule for the configuration files: the override directory's file wins, file by file."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import CONFIG_FILES, DEFAULTS, Settings, config_file
from bot.prompt import PromptConfig
from tests.fakes.anthropic import FakeClaude
from tests.fakes.hf import FakeHF

ROOT = Path(__file__).resolve().parent.parent


# --- the configuration files: packaged defaults, overridden file by file ------------------------------


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without config/, and no HFWEEKLY_CONFIG_DIR."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HFWEEKLY_CONFIG_DIR", raising=False)
    return tmp_path


def test_without_a_config_directory_the_packaged_defaults_are_read(elsewhere: Path) -> None:
    for name in CONFIG_FILES:
        assert config_file(name) == DEFAULTS / name
        assert config_file(name).read_text(encoding="utf-8").strip()
    prompt = PromptConfig.load(config_file("prompt.md"), config_file("glossary.toml"))
    assert "학술적인 한국어" in prompt.system
    assert Settings().top_n == 10  # settings.toml read from the package


def test_the_repository_keeps_one_copy_of_the_defaults() -> None:
    assert not any((ROOT / "config" / name).exists() for name in CONFIG_FILES)  # bot/defaults/ only
    assert DEFAULTS.is_dir() and str(DEFAULTS).startswith(str(ROOT / "bot"))


def test_a_config_directory_overrides_only_the_files_it_has(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "config").mkdir()
    (elsewhere / "config" / "prompt.md").write_text("우리 팀의 번역 지침.\n", encoding="utf-8")
    (elsewhere / "config" / "settings.toml").write_text("top_n = 7\n", encoding="utf-8")
    prompt = PromptConfig.load(config_file("prompt.md"), config_file("glossary.toml"))
    assert prompt.system == "우리 팀의 번역 지침."
    assert "강화학습" in prompt.glossary.prompt_block()  # the glossary: the packaged one
    assert config_file("brief.md") == DEFAULTS / "brief.md"
    assert Settings().top_n == 7
    monkeypatch.setenv("HFWEEKLY_TOP_N", "3")
    assert Settings().top_n == 3  # the environment still wins

    other = elsewhere / "elsewhere"
    other.mkdir()
    (other / "glossary.toml").write_text('[terms]\n"agent" = "에이전트"\n', encoding="utf-8")
    monkeypatch.setenv("HFWEEKLY_CONFIG_DIR", str(other))  # the variable replaces ./config
    prompt = PromptConfig.load(config_file("prompt.md"), config_file("glossary.toml"))
    assert "학술적인 한국어" in prompt.system
    assert [t.english for t in prompt.glossary.terms] == ["agent"]


def test_a_missing_explicit_directory_is_an_error_not_the_defaults(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFWEEKLY_CONFIG_DIR", str(elsewhere / "typo"))
    with pytest.raises(ValueError, match=r"cannot read the translation prompt .*typo/prompt\.md"):
        PromptConfig.load(config_file("prompt.md"), config_file("glossary.toml"))


def test_a_broken_settings_file_is_named(elsewhere: Path) -> None:
    from bot.config import load_settings
    from bot.errors import ConfigError

    (elsewhere / "config").mkdir()
    (elsewhere / "config" / "settings.toml").write_text("top_n = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config/settings.toml is not valid TOML"):
        load_settings()


# --- the wheel ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A virtual environment with the wheel installed (not editable), and nothing of the checkout.

    The wheel is built from a copy of the sources (a build writes build/ and *.egg-info beside them).
    The dependencies come from this interpreter's site-packages through a plain path line in a .pth
    file: the path is added, but the .pth files there are not run, so an editable install of the
    checkout (its import hook) stays out."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    dist = base / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    built = subprocess.run([*pip, "wheel", str(source), "--no-deps", "-w", str(dist)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("hfweekly-*.whl")

    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    ours |= {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}  # a venv's base too
    Path(purelib, "_hfweekly_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    done = subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--root-user-action=ignore", str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    yield env_dir


def outside_env(cli_env: dict[str, str]) -> dict[str, str]:
    """cli_env without anything that would lead Python to the checkout."""
    return {k: v for k, v in cli_env.items() if k not in {"PYTHONPATH", "HFWEEKLY_CONFIG_DIR", "VIRTUAL_ENV"}}


async def run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_the_wheel_installs_and_runs_outside_the_checkout(
    installed: Path, cli_env: dict[str, str], tmp_path: Path, fake_hf: FakeHF, fake_claude: FakeClaude
) -> None:
    env, cwd = outside_env(cli_env), tmp_path / "somewhere"
    cwd.mkdir()
    hfweekly = str(installed / "bin" / "hfweekly")

    status, out, _ = await run(
        [str(installed / "bin" / "python"), "-c", "import bot, bot.config as c; print(bot.__file__, c.DEFAULTS)"],
        env, cwd,
    )  # fmt: skip
    assert status == 0
    module, defaults = out.split()
    assert module.startswith(str(installed)) and defaults.startswith(str(installed)), out  # the wheel's bot
    assert not module.startswith(str(ROOT))

    status, out, err = await run([hfweekly, "--help"], env, cwd)
    assert status == 0, err
    assert "digest" in out and "publish" in out and "init" in out

    status, out, err = await run([hfweekly, "digest", "2025-W38", "--no-translate"], env, cwd)
    assert status == 0, err
    assert out.count("## Abstract (Original)") == 10
    assert "--- 1. Scaling Agents via Continual Pre-training ---" in out

    # Translated: the prompt and the glossary come from the package (the issue: "cannot read the
    # translation prompt in …/site-packages/config/prompt.md").
    status, out, err = await run([hfweekly, "digest", "2025-W38", "--top", "2", "--format", "json"], env, cwd)
    assert status == 0, err
    assert [p["status"] for p in json.loads(out)["papers"]] == ["translated"] * 2
    assert "학술적인 한국어" in fake_claude.requests[-1]["system"][0]["text"]
    assert os.listdir(cwd) == []  # nothing written where it ran
