"""The optional compiled kernels (``sim.engine.compiled``, numba) against the numpy reference, bit for bit.

Without numba installed, the comparisons are skipped and only the switch is tested; CI's Python 3.13
leg installs ``ceasefire[fast]`` and runs this file there with numba required."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sim.engine.compiled
from sim.cli.main import main
from sim.core.exit_codes import EXIT_BAD_INPUT
from sim.engine.compiled import SWITCH, WORTH_FROM_WORLD_DAYS, CompiledKernelsError, kernels, numpy_only, wanted
from sim.engine.packing import run_packed
from sim.engine.streams import Lane, normal_pairs, poisson_quantile, uniforms, world_keys
from sim.experiments.run import run_scenario
from tests.conftest import make_scenario


@pytest.fixture
def fresh_switch(monkeypatch: pytest.MonkeyPatch):
    """Forget which path this process chose, and forget it again afterwards."""
    sim.engine.compiled.forget()
    yield monkeypatch
    monkeypatch.undo()
    sim.engine.compiled.forget()


def test_switch_zero_takes_the_numpy_path(fresh_switch: pytest.MonkeyPatch) -> None:
    fresh_switch.setenv(SWITCH, "0")
    assert kernels() is None and sim.engine.compiled.engine() == "numpy"


def test_switch_one_without_numba_is_a_clear_error(fresh_switch: pytest.MonkeyPatch) -> None:
    fresh_switch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    fresh_switch.setenv(SWITCH, "1")
    with pytest.raises(CompiledKernelsError, match="CEASEFIRE_NUMBA=1 but numba cannot be imported"):
        kernels()
    fresh_switch.delenv(SWITCH)
    sim.engine.compiled.forget()
    with wanted():
        assert kernels() is None  # unset: numpy where numba is missing, even for a long job


def test_unset_switch_imports_numba_only_for_a_long_job(fresh_switch: pytest.MonkeyPatch) -> None:
    """A short run does not pay numba's import: kernels() does not even look for it until want()."""
    fresh_switch.delenv(SWITCH, raising=False)
    fresh_switch.setattr(sim.engine.compiled, "_wanted", False)
    looked_for: list[bool] = []
    fresh_switch.setattr(sim.engine.compiled, "_loaded", lambda: looked_for.append(True))  # as if numba were missing
    assert kernels() is None
    scenario = make_scenario(replications=100, horizon_days=30)
    assert scenario.replications * scenario.horizon_days < WORTH_FROM_WORLD_DAYS
    run_scenario(scenario)
    assert not looked_for and sim.engine.compiled._wanted is False
    run_packed([scenario, scenario], [(0,), (1,)])  # packed points: a long job
    assert looked_for and sim.engine.compiled._wanted is True


@pytest.mark.parametrize("value, message", [
    ("yes", "CEASEFIRE_NUMBA='yes': use 0 (numpy only), 1 (numba required) or leave it unset"),
    ("1", "CEASEFIRE_NUMBA=1 but numba cannot be imported"),
])
def test_the_command_line_refuses_a_bad_switch_in_one_line_before_any_work(
        fresh_switch: pytest.MonkeyPatch, tmp_path, capsys, value: str, message: str) -> None:
    fresh_switch.setitem(sys.modules, "numba", None)
    fresh_switch.setenv(SWITCH, value)
    out = tmp_path / "out"
    assert main(["run", "baseline", "--replications", "10", "--horizon", "5", "--out", str(out)]) == EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and "Traceback" not in error
    assert not out.exists()


def test_numpy_only_holds_inside_its_block() -> None:
    with numpy_only():
        assert kernels() is None
    assert sim.engine.compiled._numpy_only is False


@pytest.fixture
def compiled():
    """The kernels, in use for the test; skipped where numba is not installed (the switch tests above run
    anyway)."""
    pytest.importorskip("numba", reason="numba not installed: pip install -e '.[fast]'")
    with wanted():
        found = kernels()
        if found is None:
            pytest.skip(f"{SWITCH}=0 in the environment")
        yield found


def test_compiled_uniforms_equal_numpys_for_every_lane_and_index(compiled) -> None:
    keys = world_keys(7, (3, 1), np.arange(5_000))
    for lanes in ((Lane.PROBE_AND_BREAKDOWN, Lane.INCIDENTS), tuple(Lane), (Lane.ELECTION,)):
        for index in (0, 1, 729, 8 * 730 + 7, 2**40):
            fast = uniforms(keys, lanes, index)
            with numpy_only():
                reference = uniforms(keys, lanes, index)
            np.testing.assert_array_equal(fast, reference)
            assert fast.shape == (2 * len(lanes), keys.size) and fast.dtype == np.float64
    assert uniforms(keys[:0], (Lane.INCIDENTS,), 3).shape == (2, 0)


def test_compiled_counts_equal_numpys_from_zero_means_to_large_ones(compiled) -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    means = np.stack([rng.uniform(0.0, 12.0, n), 10.0 ** rng.uniform(-3.0, 4.0, n)])
    means[:, ::7] = 0.0  # ended worlds
    means[0, 1::11] = 5.0  # the edge between the exact search and the expansion
    normal = normal_pairs(rng.uniform(size=(2, n)))
    normal[:, :4] = np.float32([[-9.0, 9.0, 0.0, -0.0], [38.0, -38.0, 1e-30, 5.0]])  # tails and signed zero
    fast = poisson_quantile(normal, means)
    with numpy_only():
        reference = poisson_quantile(normal, means)
    np.testing.assert_array_equal(fast, reference)
    assert fast.dtype == np.int64
    one_row = poisson_quantile(normal[0], means[1])  # 1-D arguments too
    with numpy_only():
        np.testing.assert_array_equal(one_row, poisson_quantile(normal[0], means[1]))


def test_a_whole_run_gives_the_same_tables_on_both_paths(compiled) -> None:
    scenario = make_scenario(replications=1_500, horizon_days=365)
    assert sim.engine.compiled.engine().startswith("numba")
    fast = run_scenario(scenario)
    with numpy_only():
        reference = run_scenario(scenario)
    for table in ("runs", "summary", "survival", "trajectories"):
        assert getattr(fast, table).to_csv() == getattr(reference, table).to_csv(), table
