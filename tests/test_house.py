"""The house as the README draws it: each floor imports only the floors below it, there is no
import circle (function-level imports counted), and no room outgrows what a newcomer can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import clipkit

PACKAGE = Path(clipkit.__file__).parent
FLOORS = {  # the README's picture, top to bottom
    "cli": 4,
    **dict.fromkeys(
        "transcribe cut publish youtube archive film report fetch review select find export "
        "status makerules doctor batch serve".split(), 3),
    **dict.fromkeys(
        "ffmpeg media engines diarize segmentation cluster align recover speakers translate "
        "tracks models".split(), 2),
    **dict.fromkeys(
        "transcript sidecar formats settings project stories signoff plan profiles burn "
        "fsutil metrics resources".split(), 1),
    **dict.fromkeys("timecode subtitles linebreak subtitle_text sourcekey errors".split(), 0),
}  # fmt: skip
ALLOWED_UP = {("settings", "engines")}  # the engine registry checks a clipkit.toml name


def modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[0] not in ("__main__",):
            out[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def imports(name: str, tree: ast.Module, is_package: bool) -> set[str]:
    """The clipkit modules `name` imports anywhere in its body (relative imports resolved)."""
    found = set()
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here[: len(here) - (node.level - 1)]
            if node.module:
                found.add(".".join([*base, node.module]))
            else:
                found.update(".".join([*base, a.name]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("clipkit."):
            found.add(node.module.removeprefix("clipkit."))  # type: ignore[union-attr]
    return {f for f in found if f and f.split(".")[0] in FLOORS}


def graph() -> dict[str, set[str]]:
    trees = modules()
    packages = {p.parent.relative_to(PACKAGE).as_posix().replace("/", ".")
                for p in PACKAGE.rglob("__init__.py")}  # fmt: skip
    return {name: imports(name, tree, name in packages) for name, tree in trees.items()}


def test_every_room_is_on_a_floor() -> None:
    assert sorted({name.split(".")[0] for name in graph()} - set(FLOORS)) == []


def test_no_room_imports_a_floor_above_its_own() -> None:
    upward = []
    for name, targets in graph().items():
        for target in targets:
            a, b = name.split(".")[0], target.split(".")[0]
            if FLOORS[b] > FLOORS[a] and (a, b) not in ALLOWED_UP:
                upward.append(f"{name} -> {target}")
    assert upward == []


def test_no_import_circle() -> None:
    edges = graph()
    known = set(edges)

    def resolve(target: str) -> str | None:  # `from .cut import x` names the package cut
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    state: dict[str, int] = {}
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(filter(None, map(resolve, edges[node]))):
            package_of_node = node.startswith(target + ".")  # a room importing its own package
            if package_of_node:
                continue
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert circles == []


def test_no_module_over_600_lines_and_no_function_over_60() -> None:
    long_modules, long_functions = [], []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 600:
            long_modules.append(path.name)
        for node in ast.walk(ast.parse(text)):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.end_lineno - node.lineno + 1 > 60:  # type: ignore[union-attr,operator]
                long_functions.append(f"{path.relative_to(PACKAGE)}:{node.name}")  # type: ignore[union-attr]
    assert (long_modules, long_functions) == ([], [])
