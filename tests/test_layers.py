"""The package's layers, enforced: every import of a ``sim`` module goes to the same layer or one below.

The layers, lowest first (docs/ARCHITECTURE.md): core <- mechanisms <- spec <- engine <- stats <-
experiments <- outputs <- app, api, cli. Imports inside functions count as much as those at the top of
a module: a deferred import is still a dependency. Modules of one layer may import each other, but no
two modules may import each other (a cycle hides which one is below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sim

PACKAGE = Path(sim.__file__).resolve().parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("mechanisms",),
    ("spec",),
    ("engine",),
    ("stats",),
    ("experiments",),
    ("outputs",),
    ("app", "api"),
    ("cli",),
    ("__init__", "__main__"),
)
"""Top-level parts of ``sim`` by layer, lowest first; a part may import its own layer and those below."""

RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__" and len(parts) > 2:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    """``sim.engine.model`` -> ``engine``; ``sim`` (the package itself) -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imported_modules(path: Path) -> set[str]:
    """Every ``sim`` module ``path`` imports, at any depth of the file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    package = module_name(path).rpartition(".")[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "sim")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "sim":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(".py").exists() or (
                    PACKAGE.parent / Path(*candidate.split("."))).is_dir()
                found.add(candidate if is_module else base)
    return found


def sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "data" not in p.relative_to(PACKAGE).parts[:1])


def lazy_exports() -> set[str]:
    """Modules named in the lazy export table of ``sim/__init__.py`` (imported on first use)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("sim.")}


def test_every_part_of_the_package_has_a_layer():
    parts = {layer_of(module_name(path)) for path in sources()}
    assert parts <= set(RANK), f"add {sorted(parts - set(RANK))} to LAYERS and to docs/ARCHITECTURE.md"


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_only_down(path: Path):
    importer = module_name(path)
    upward = sorted(target for target in imported_modules(path)
                    if RANK[layer_of(target)] > RANK[layer_of(importer)])
    assert upward == [], f"{importer} ({layer_of(importer)}) imports a higher layer: {upward}"


def test_no_two_modules_import_each_other():
    graph = {module_name(path): imported_modules(path) for path in sources()}
    pairs = sorted({tuple(sorted((a, b))) for a, targets in graph.items() for b in targets
                    if a != b and a in graph.get(b, ()) and not a.startswith(b + ".") and not b.startswith(a + ".")})
    assert pairs == []


def test_the_lazy_exports_point_at_real_modules():
    for module in lazy_exports():
        assert (PACKAGE.parent / Path(*module.split("."))).with_suffix(".py").exists() or \
            (PACKAGE.parent / Path(*module.split("."))).is_dir(), module


def test_the_layer_check_can_fail(tmp_path: Path):
    """An upward import written into a scratch copy of the rule is caught (the check is not vacuous)."""
    engine_module = PACKAGE / "engine" / "model.py"
    assert RANK[layer_of("sim.outputs.artefacts")] > RANK[layer_of(module_name(engine_module))]
    scratch = tmp_path / "probe.py"
    scratch.write_text("def f():\n    from sim.outputs.artefacts import write_csv\n")
    tree_imports = {n.module for n in ast.walk(ast.parse(scratch.read_text())) if isinstance(n, ast.ImportFrom)}
    assert "sim.outputs.artefacts" in tree_imports


def external_packages(path: Path) -> set[str]:
    """Top-level names of the packages outside ``sim`` that ``path`` imports, at any depth of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    return {name.split(".")[0] for name in names} - {"sim"}


def module_path(module: str) -> Path | None:
    """The file of a ``sim`` module (a package's ``__init__.py``), or None if it is a name inside one."""
    base = PACKAGE.parent / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def reached_modules(path: Path) -> set[str]:
    """Every ``sim`` module ``path`` imports, directly or through the modules it imports (functions included)."""
    seen: set[str] = set()
    todo = list(imported_modules(path))
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        found = module_path(module)
        if found is not None:
            todo.extend(imported_modules(found))
    return seen


EXPERIMENTS = [p for p in sources() if layer_of(module_name(p)) == "experiments"]


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_experiment_draws(path: Path):
    """Experiments compute; figures are drawn by sim.outputs.plots from the tables. No experiment module, nor
    any sim module it reaches, imports matplotlib or the outputs layer."""
    reached = reached_modules(path)
    assert not [m for m in reached if layer_of(m) in ("outputs", "app", "cli")], reached
    drawing = sorted(module_name(p) for p in [path, *filter(None, map(module_path, reached))]
                     if "matplotlib" in external_packages(p))
    assert drawing == []


def test_importing_the_experiments_loads_no_matplotlib():
    """The same, as Python sees it: importing every experiment module loads no matplotlib. The calibration's
    sampler is left out: it subclasses pyabc's, and pyabc (an optional extra) imports matplotlib itself."""
    import subprocess
    import sys

    modules = [module_name(p) for p in EXPERIMENTS if p.name != "batch_sampler.py"]
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib' or m.startswith('sim.outputs')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
