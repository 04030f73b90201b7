"""A paper's links besides Hugging Face and arXiv: its code repository (with its stars) and its
project page, as Hugging Face lists them. Pure; escaped here (the URLs come from outside)."""

from __future__ import annotations

from bot import texts
from bot.models import Paper
from bot.tghtml import esc


def stars(count: int) -> str:
    """GitHub's short form: 950, 1.2k, 12k, 1.5M."""
    if count < 1000:
        return str(count)
    if count < 10_000:
        return f"{count / 1000:.1f}".removesuffix(".0") + "k"
    if count < 1_000_000:
        return f"{count // 1000}k"
    return f"{count / 1_000_000:.1f}".removesuffix(".0") + "M"


def code_link(paper: Paper) -> str | None:
    """`코드 ★1.2k`, linking the repository; None when Hugging Face lists none."""
    if paper.github_repo is None:
        return None
    label = texts.CODE_LINK.format(stars=stars(paper.github_stars)) if paper.github_stars else texts.CODE_LINK_NO_STARS
    return f'<a href="{esc(paper.github_repo)}">{label}</a>'


def extra_links(paper: Paper) -> list[str]:
    """The code repository and the project page, each when Hugging Face lists it."""
    project = f'<a href="{esc(paper.project_page)}">{texts.PROJECT_LINK}</a>' if paper.project_page else None
    return [link for link in (code_link(paper), project) if link is not None]
