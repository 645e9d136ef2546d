"""The benchmark scripts still run (tiny sizes, no timing asserted: speed is measured by the scripts
themselves, never in a test)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
ROOT = BENCHMARKS.parent


def run_script(script: str, arguments: list[str], monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``benchmarks/<script>`` as ``python <script> <arguments>`` would; it must exit 0. Returns its output."""
    monkeypatch.setattr(sys, "argv", [script, *arguments])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(BENCHMARKS / script), run_name="__main__")
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_engine_benchmark_runs_and_reports_the_ratio(monkeypatch: pytest.MonkeyPatch, capsys):
    arguments = ["--horizon", "20", "--batch-worlds", "200", "--oracle-worlds", "5", "--repeats", "2", "--skip-cli",
                 "--scaling", "100", "300"]
    output = run_script("bench_engine.py", arguments, monkeypatch, capsys)
    assert "throughput ratio batch / oracle" in output and "target >= 150x" in output
    assert "a world-day; ratio against the oracle at most" in output
    assert "machine: " in output and " cores; Python " in output  # figures differ 2-3x between machines


def test_evaluate_benchmark_runs_and_finds_identical_results(monkeypatch: pytest.MonkeyPatch, capsys):
    output = run_script("bench_evaluate.py", ["--n", "1", "--worlds", "10", "--horizon", "20"], monkeypatch, capsys)
    assert "speed-up: " in output and "(target >= 4x); results identical: True" in output


@pytest.mark.parametrize("script, arguments, expected", [
    ("check_dose.py", ["--worlds", "30"], " | max step | 0->100 | 0->100, 95 % | met |"),
    ("check_hazard_shape.py", ["--worlds", "30"], "| no_european_troops |"),
    ("check_germany.py", ["--worlds", "30", "--coalition", "5000"], "| timing: deployment_delay_days 720 -> 0 |"),
    ("check_share_intervals.py", ["--combinations", "6", "--draws", "3", "--replicates", "3", "--resamples", "10"],
     "  share_parameters: coverage "),
])
def test_the_model_v3_checks_run(script: str, arguments: list[str], expected: str, monkeypatch: pytest.MonkeyPatch,
                                 capsys):
    """The issue-22 checks (dose, the hazard's shape, Germany) run and print their tables; their numbers are the
    scripts' business, at full size."""
    assert expected in run_script(script, arguments, monkeypatch, capsys)


def test_engine_against_a_checkout_runs(monkeypatch: pytest.MonkeyPatch, capsys):
    """``bench_vs_commit.py`` against this same checkout (both sides the same code), tiny sizes."""
    arguments = [str(ROOT), "--worlds", "30", "--horizon", "15", "--pairs", "1", "--oracle-worlds", "2",
                 "--trajectories"]
    output = run_script("bench_vs_commit.py", arguments, monkeypatch, capsys)
    assert "trajectories recorded" in output and "speed-up baseline / this, pair by pair" in output
    assert "engine / oracle (2 worlds), this:" in output


def test_main_job_benchmark_runs_and_compares_outputs(monkeypatch: pytest.MonkeyPatch, capsys):
    """``bench_main_job.py`` against this same checkout: the whole command runs, and identical code gives identical
    CSV and PNG bytes (a comparison that reports a difference would exit 1 for a CSV)."""
    arguments = ["--baseline", str(ROOT), "--pairs", "1", "--extra", "--replications", "40", "--horizon", "20"]
    output = run_script("bench_main_job.py", arguments, monkeypatch, capsys)
    assert "ratio of medians baseline / current" in output
    assert "outputs: every CSV and PNG the same bytes" in output


def test_compiled_day_check_runs_and_compares_bit_for_bit(monkeypatch: pytest.MonkeyPatch, capsys):
    """``check_compiled_day.py`` at tiny sizes: its three measurements, and its verdict on a bit-identical day."""
    pytest.importorskip("numba")
    output = run_script("check_compiled_day.py", ["--worlds", "30", "--days", "10", "--samples", "2000",
                                                  "--repeats", "1"], monkeypatch, capsys)
    assert "exp, float32 (offensive choice, spiral)" in output and "log, float64 (geometric gaps)" in output
    assert "a whole day compiled bit for bit: " in output
    # the control, a function both round exactly, must agree on every bit, or the comparison is broken
    assert "sqrt, float32 (control: correctly rounded in both)      0.00%" in output
    assert "its transcendental numpy calls alone" in output and "the same run at 20 worlds:" in output


def test_compiled_day_check_says_numba_is_missing(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.setattr(sys, "argv", ["check_compiled_day.py", "--samples", "10"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(BENCHMARKS / "check_compiled_day.py"), run_name="__main__")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "error: numba is not installed: pip install '.[fast]'\n"
