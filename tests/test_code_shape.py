"""The engine stays readable: no function in ``sim/engine/`` is longer than a screen (60 lines, from its
first decorator or ``def`` to its last line, docstring and comments included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sim

ENGINE = Path(sim.__file__).resolve().parent / "engine"
MOST_LINES = 60


def function_lengths(source: str) -> dict[str, int]:
    """Lines of every function and method in ``source`` (nested ones too), by qualified name."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                lengths[prefix + child.name] = child.end_lineno - first + 1
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return lengths


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_no_engine_function_is_longer_than_60_lines(path: Path):
    long = {name: n for name, n in function_lengths(path.read_text(encoding="utf-8")).items() if n > MOST_LINES}
    assert long == {}, f"{path.name}: split these functions: {long}"


def test_the_length_check_can_fail():
    body = "".join(f"    x{i} = {i}\n" for i in range(MOST_LINES))
    lengths = function_lengths(f"class A:\n    @staticmethod\n    def long():\n{body.replace('    ', '        ')}")
    assert lengths == {"A.long": MOST_LINES + 2}
