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


def _mentions_store(tree: ast.AST) -> list[str]:
    """Where a module names the whole `Store` class (imports it, or uses it in an annotation or a call)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "bot.store":
            found += [f"line {node.lineno}: imports Store" for alias in node.names if alias.name == "Store"]
        elif (isinstance(node, ast.Name) and node.id == "Store") or (
            isinstance(node, ast.Attribute) and node.attr == "Store"
        ):
            found.append(f"line {node.lineno}: names Store")
    return found


def test_handlers_reach_the_store_only_through_services() -> None:
    """Handlers get services (Deps), never the store: no `bot.store` import, no `.store` anywhere."""
    from dataclasses import fields

    from bot.handlers.common import Deps

    assert "store" not in {f.name for f in fields(Deps)}
    for path in (BOT / "handlers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("bot.store"), f"{path.name}:{node.lineno} imports the store"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("bot.store") for a in node.names), f"{path.name}:{node.lineno}"
            elif isinstance(node, ast.Attribute):
                assert node.attr != "store", f"{path.name}:{node.lineno} reaches into the store"


def test_services_take_the_store_facets_they_use() -> None:
    """Only the composition root (bot/app.py, and bot/clients.py which builds its clients) and the command
    line know the whole Store; every service and function
    elsewhere is typed with the facets it uses (PaperStore, ChatStore, DeliveryStore …), so mypy
    proves it uses nothing else."""
    knowing = {}
    for path in BOT.rglob("*.py"):
        name = module_name(path)
        if name == "bot.store" or name.startswith("bot.store."):
            continue
        if found := _mentions_store(ast.parse(path.read_text())):
            knowing[name] = found
    assert set(knowing) <= {"bot.app", "bot.clients", "bot.__main__"}, knowing
