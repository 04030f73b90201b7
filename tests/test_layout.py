"""The house rules that keep the code readable, checked: no import cycle in bot/, only the command
line knows the composition root, no module over 350 lines, no class over 250."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """The bot.* modules a module imports when it is imported (not under TYPE_CHECKING, not in functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("bot"))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in BOT.rglob("*.py")}
    return {name: {m for m in top_level_imports(path) if m in modules and m != name} for name, path in modules.items()}


def test_no_import_cycle_in_bot() -> None:
    edges = graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, " -> ".join([*path, name])
        if name in done:
            return
        for imported in edges[name]:
            visit(imported, [*path, name])
        done.add(name)

    for name in edges:
        visit(name, [])


def test_only_the_command_line_imports_the_composition_root() -> None:
    importers = set()
    for path in BOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.app":
                importers.add(module_name(path))
    assert importers == {"bot.__main__"}


def test_modules_and_classes_stay_small() -> None:
    for path in BOT.rglob("*.py"):
        source = path.read_text()
        assert source.count("\n") <= 350, f"{path.name}: split it by concern"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                assert node.end_lineno - node.lineno <= 250, f"{path.name}: class {node.name}"
