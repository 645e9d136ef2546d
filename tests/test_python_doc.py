"""docs/PYTHON.md's code blocks run as written (small sizes: at most 300 worlds each, short horizons)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import matplotlib
import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "PYTHON.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[str]:
    return BLOCK.findall(PAGE.read_text(encoding="utf-8"))


def title(code: str) -> str:
    if "ema_workbench" in code:
        return "ema"
    if "SALib" in code:
        return "salib"
    return re.sub(r"\W+", "_", code.split("import sim\n", 1)[-1].strip().splitlines()[0])[:40]


def test_the_page_has_a_salib_and_an_ema_example():
    kinds = [title(code) for code in blocks()]
    assert "salib" in kinds and "ema" in kinds and len(kinds) >= 5


@pytest.mark.parametrize("code", blocks(), ids=title)
def test_each_block_runs(code: str, tmp_path, monkeypatch):
    if "ema_workbench" in code and importlib.util.find_spec("ema_workbench") is None:
        pytest.skip("EMA Workbench is not installed: pip install 'ceasefire[ema]' (Python 3.9+)")
    for replications in re.findall(r"replications\W+(\d+)", code):
        assert int(replications) <= 300
    monkeypatch.chdir(tmp_path)
    matplotlib.use("Agg")
    exec(compile(code, str(PAGE), "exec"), {"__name__": "__docs__"})


def test_the_yaml_example_extends_the_bundled_baseline_from_an_empty_folder(tmp_path, monkeypatch):
    import sim

    text = re.search(r"^```yaml\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    Path("mine.yaml").write_text(text, encoding="utf-8")
    scenario = sim.load_scenario("mine.yaml")
    assert (scenario.name, scenario.agents.UK.troops) == ("more_troops", 20000)
    assert scenario.agents.FR == sim.load_scenario("baseline").agents.FR
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.yaml"]
