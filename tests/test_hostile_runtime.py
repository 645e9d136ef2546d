"""Hostile runtime cases (issue 13): memory bounded up front, workers that die with their parent,
``--resume`` that checks what it reads, and one-line errors for damaged tables.

Each test is named for the failure it pins.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim.outputs.plots.runs
from sim.cli.main import main
from sim.core.errors import InputError
from sim.engine.blocks import plan_blocks
from sim.engine.model import TRAJECTORY_VARIABLES
from sim.engine.resources import MEMORY_LIMIT_ENV, check_run_memory, memory_limit_bytes, run_memory_bytes
from sim.engine.runner import BlockResult, local_executor, simulate_block
from sim.experiments.run import run_scenario
from sim.experiments.sweep import execute
from sim.experiments.sweep.design import quick_sweep
from sim.experiments.sweep.execute import run_point, run_sweep
from sim.experiments.sweep.records import sealed
from sim.outputs.partial import PARTIAL_SUFFIX, RECORDS_FILE, RecordStore, partial_dir
from sim.stats import trajectories
from sim.stats.trajectories import trajectory_table
from tests.conftest import make_scenario
from tests.hostile import snapshot

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
PARAM = "agents.UK.troops=0:20000:3"
SWEEP_SETTINGS = {"replications": 40, "horizon_days": 20}


def cli(*args: object) -> int:
    return main([str(a) for a in args])


def one_line(text: str) -> str:
    """The single line of ``text``; fails if there are more (a traceback) or none."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def python_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# --------------------------------------------------------------------------- memory


def test_ten_million_worlds_is_refused_in_seconds_not_a_memory_error(tmp_path: Path) -> None:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--replications", "10000000",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, env=python_env(),
                          cwd=tmp_path, timeout=60)
    elapsed = time.perf_counter() - start
    assert done.returncode == 2, done.stderr
    line = one_line(done.stderr)
    assert line.startswith("error: --replications 10000000 x --horizon 730: would need about ")
    assert "GB of memory" in line and "lower --replications or --horizon" in line
    assert elapsed < 5.0
    assert not (tmp_path / "out").exists()


def test_long_horizon_block_is_refused_before_a_memory_error() -> None:
    scenario = make_scenario(replications=10_000, horizon_days=36_500)
    with pytest.raises(InputError, match=r"--replications 10000 x --horizon 36500: would need about 5.8 GB"):
        run_scenario(scenario)


def test_memory_estimate_counts_trajectories_runs_and_blocks_in_flight() -> None:
    variables = len(TRAJECTORY_VARIABLES)
    bare = run_memory_bytes(1000, 99, record_trajectories=False)
    with_traj = run_memory_bytes(1000, 99, record_trajectories=True)
    assert with_traj - bare == 1000 * 100 * variables * 4
    in_flight = run_memory_bytes(20_000, 99, True, workers=2) - run_memory_bytes(20_000, 99, True, workers=1)
    assert in_flight == 2 * 2 * 10_000 * 100 * variables * 4


def test_memory_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0.001")
    assert memory_limit_bytes() == 1_000_000
    with pytest.raises(InputError, match=r"limit 0.0 GB, set by CEASEFIRE_MEMORY_LIMIT_GB"):
        check_run_memory(1000, 730)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(InputError, match=r"^CEASEFIRE_MEMORY_LIMIT_GB: must be a positive number"):
        memory_limit_bytes()


def test_sweep_too_large_for_memory_is_refused_before_any_folder(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "0.00001")
    sweep = quick_sweep(BASELINE, [PARAM], SWEEP_SETTINGS)
    with pytest.raises(InputError, match=r"^--replications 40 x --workers 1: .* lower --replications or --workers"):
        run_sweep(sweep)
    assert cli("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
               "--quiet", "--out", tmp_path / "out") == 2
    assert list(tmp_path.iterdir()) == []


def test_trajectory_table_in_day_slices_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Joining the blocks a few days at a time must not change a byte of trajectories.csv."""
    scenario = make_scenario(replications=30, horizon_days=12)
    results = [simulate_block(scenario, block, 5) for block in plan_blocks(30, block_worlds=7)]
    whole = trajectory_table([r.trajectories for r in results], 12)
    monkeypatch.setattr(trajectories, "TABLE_DAYS", 5)
    sliced = trajectory_table([r.trajectories for r in results], 12)
    assert whole.to_csv() == sliced.to_csv() and len(sliced) == 13
    assert isinstance(results[0], BlockResult)

def test_trajectory_table_is_numpys_nan_statistics_over_holding_worlds() -> None:
    """Each day's mean and 10th/90th percentiles are numpy's nanmean and (linear) nanquantile over the worlds
    still holding, joined across blocks; a day with no world holding is NaN throughout."""
    scenario = make_scenario(replications=60, horizon_days=40)
    results = [simulate_block(scenario, block, 3) for block in plan_blocks(60, block_worlds=25)]
    table = trajectory_table([r.trajectories for r in results], 40)
    for name in TRAJECTORY_VARIABLES:
        values = np.concatenate([r.trajectories[name] for r in results], axis=1).astype(np.float64)
        holding = ~np.isnan(values)
        assert (table["n_holding"].to_numpy() == holding.sum(axis=1)).all()
        assert 0 < holding.sum() < holding.size  # some worlds stopped holding: NaN entries were met
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days
            expected = {"mean": np.nanmean(values, axis=1),
                        "p10": np.nanquantile(values, 0.1, axis=1), "p90": np.nanquantile(values, 0.9, axis=1)}
        for stat, reference in expected.items():
            np.testing.assert_allclose(table[f"{name}_{stat}"], reference, rtol=0, atol=5e-7,
                                       equal_nan=True, err_msg=f"{name}_{stat}")  # the table is rounded to 6 places



# --------------------------------------------------------------------------- worker processes


def test_pool_workers_ignore_ctrl_c_so_only_the_parent_reports_it() -> None:
    with local_executor(1) as executor:
        assert executor.submit(signal.getsignal, signal.SIGINT).result(timeout=120) == signal.SIG_IGN


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_sigkilled_sweep_leaves_no_orphan_workers(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "sim", "sweep", str(BASELINE), "--param", "agents.UK.troops=0:20000:8",
               "--replications", "20000", "--workers", "2", "--no-plots", "--quiet", "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, env=python_env(), cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            workers = [pid for pid in _descendants(process.pid)
                       if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]
            if len(workers) >= 2:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the sweep's workers never started")
        time.sleep(1.0)  # workers past their initializer
        family = _descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in family):
            time.sleep(0.2)
        survivors = [pid for pid in family if _alive(pid)]
        for pid in survivors:  # leave nothing behind even when the test fails
            os.kill(pid, signal.SIGKILL)
        assert not survivors
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- --resume


@pytest.fixture
def interrupted(tmp_path: Path) -> tuple[Path, Path, list[dict]]:
    """A sweep folder ``out`` whose partial folder holds the genuine records of points 0 and 1 of 3."""
    out = tmp_path / "out"
    sweep = quick_sweep(BASELINE, [PARAM], SWEEP_SETTINGS)
    records = [sealed(run_point(sweep.scenario_at(i), i), sweep.point_digest(i)) for i in (0, 1)]
    with RecordStore.open(partial_dir(out), sweep, resume=False, restart=False) as store:
        for record in records:
            store.append(record)
    return out, partial_dir(out) / RECORDS_FILE, records


def resume(out: Path) -> int:
    return cli("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
               "--no-plots", "--quiet", "--resume", "--out", out)


def _tampered(record: dict, change: str) -> bytes:
    record = json.loads(json.dumps(record))
    if change == "missing keys":
        del record["n_holding"]
    elif change == "p = 7.5":
        record["summary"]["p_agreed"] = 7.5
    elif change == "n_holding > worlds":
        record["n_holding"][0] = 10**6
    elif change == "n_holding increases":
        record["n_holding"][-1] = record["n_holding"][0] + 1
    elif change == "point out of range":
        record["point"] = 3
    elif change == "point as text":
        record["point"] = "1"
    elif change == "replications changed":
        record["summary"]["replications"] = 41
    elif change == "share disagrees with counts":
        record["summary"]["share_held"], record["summary"]["share_no_deal"] = (
            record["summary"]["share_no_deal"], record["summary"]["share_held"])
    return (json.dumps(record) + "\n").encode()


BAD_LINES = {
    "garbled": lambda r: b'{"point": 1, "summ\n',
    "non-UTF-8": lambda r: b'{"point": 1, "\xff\xfe": 2}\n',
    "empty": lambda r: b"\n",
    "deep nesting": lambda r: b"[" * 100_000 + b"\n",
    **{change: (lambda r, c=change: _tampered(r, c)) for change in (
        "missing keys", "p = 7.5", "n_holding > worlds", "n_holding increases", "point out of range",
        "point as text", "replications changed", "share disagrees with counts")},
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_resume_refuses_a_damaged_record_with_its_line_number(interrupted: tuple[Path, Path, list[dict]],
                                                              case: str, capsys: pytest.CaptureFixture) -> None:
    out, records, saved = interrupted
    lines = records.read_bytes().splitlines(keepends=True)
    records.write_bytes(lines[0] + BAD_LINES[case](saved[1]))
    assert resume(out) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"error: {records}: line 2: ") and "--restart" in line
    assert not out.exists()  # nothing tampered reached sweep.csv


def test_resume_refuses_a_point_saved_twice_with_different_figures(interrupted: tuple[Path, Path, list[dict]],
                                                                   capsys: pytest.CaptureFixture) -> None:
    out, records, saved = interrupted
    other = json.loads(json.dumps(saved[1]))
    other["point"], other["point_sha256"] = 0, saved[0]["point_sha256"]
    with open(records, "ab") as handle:
        handle.write((json.dumps(other) + "\n").encode())
    assert resume(out) == 2
    assert "line 3: point 0 was saved before with different figures" in one_line(capsys.readouterr().err)


def test_resume_accepts_genuine_records_and_a_repeated_identical_one(interrupted: tuple[Path, Path, list[dict]],
                                                                     capsys: pytest.CaptureFixture) -> None:
    out, records, saved = interrupted
    with open(records, "ab") as handle:
        handle.write((json.dumps(saved[0], separators=(",", ":")) + "\n").encode())
    assert resume(out) == 0
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 3 and table["p_agreed"].between(0, 1).all()


def test_partial_that_is_a_file_is_one_line_and_kept(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    partial = tmp_path / ("out" + PARTIAL_SUFFIX)
    partial.write_bytes(b"mine")
    for flag in ("--resume", "--restart"):
        assert cli("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
                   "--no-plots", "--quiet", flag, "--out", out) == 2
        assert "exists and is not a folder" in one_line(capsys.readouterr().err)
    assert partial.read_bytes() == b"mine"


def test_points_file_that_is_a_folder_is_one_line(interrupted: tuple[Path, Path, list[dict]],
                                                  capsys: pytest.CaptureFixture) -> None:
    out, records, _ = interrupted
    records.unlink()
    records.mkdir()
    assert resume(out) == 2
    assert "points.jsonl: not a regular file" in one_line(capsys.readouterr().err)


def test_restart_never_deletes_files_a_sweep_did_not_write(interrupted: tuple[Path, Path, list[dict]],
                                                           capsys: pytest.CaptureFixture) -> None:
    out, records, _ = interrupted
    foreign = records.parent / "thesis.tex"
    foreign.write_text("chapter 1")
    assert cli("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
               "--no-plots", "--quiet", "--restart", "--out", out) == 2
    assert "so --restart will neither use nor delete it" in one_line(capsys.readouterr().err)
    assert foreign.read_text() == "chapter 1"


def test_resume_refuses_records_whose_points_were_swapped(interrupted: tuple[Path, Path, list[dict]],
                                                           capsys: pytest.CaptureFixture) -> None:
    """Each record carries the SHA-256 of its point's definition: figures moved to another point are refused."""
    out, records, saved = interrupted
    first, second = (json.loads(line) for line in records.read_bytes().splitlines())
    first["point"], second["point"] = second["point"], first["point"]
    records.write_bytes(b"".join((json.dumps(r, separators=(",", ":")) + "\n").encode() for r in (first, second)))
    before = records.read_bytes()
    assert resume(out) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"error: {records}: line 1: point_sha256: does not match the definition of point 1")
    assert records.read_bytes() == before and not out.exists()


def test_resume_keeps_a_foreign_file_in_the_partial_folder_and_exits_2(
        interrupted: tuple[Path, Path, list[dict]], capsys: pytest.CaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out, records, _ = interrupted
    foreign = records.parent / "notes.txt"
    foreign.write_text("mine")
    before = records.read_bytes()
    monkeypatch.setattr(execute, "run_sweep", _no_compute)
    assert resume(out) == 2
    assert "holds a file a sweep did not write (notes.txt), so --resume will neither use nor delete it" in one_line(
        capsys.readouterr().err)
    assert foreign.read_text() == "mine" and records.read_bytes() == before and not out.exists()


def _no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed before refusing")


def _planting(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Make the sweep plant ``target`` (a user's file) as soon as its first point is saved."""
    real = execute.completed_points

    def planting(*args: object):
        for number, record in enumerate(real(*args)):
            yield record
            if number == 0:
                target.write_text("mine")

    monkeypatch.setattr(execute, "completed_points", planting)


def test_a_file_planted_in_the_partial_folder_while_the_sweep_runs_survives(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    planted = partial_dir(out) / "notes.txt"
    _planting(monkeypatch, planted)
    assert cli("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
               "--no-plots", "--quiet", "--out", out) == 2
    line = one_line(capsys.readouterr().err)
    assert "holds a file ceasefire did not write (notes.txt)" in line and f"results are complete in {out}" in line
    assert planted.read_text() == "mine"
    assert len(pd.read_csv(out / "sweep.csv")) == 3  # the sweep itself was written


def test_a_file_planted_in_the_sweep_folder_survives_before_and_during_a_run(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    command = ("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
               "--no-plots", "--quiet", "--out", out)
    assert cli(*command) == 0
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")  # before: refused up front
    with monkeypatch.context() as patch:
        patch.setattr(execute, "run_sweep", _no_compute)
        assert cli(*command) == 2
    assert "holds a file ceasefire did not write: notes.txt" in one_line(capsys.readouterr().err)
    (out / "notes.txt").unlink()
    _planting(monkeypatch, out / "notes.txt")  # during: the swap refuses, the old results stay
    assert cli(*command) == 2
    assert "notes.txt" in one_line(capsys.readouterr().err)
    assert (out / "notes.txt").read_text() == "mine"
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "notes.txt"} == written
    assert (partial_dir(out) / RECORDS_FILE).is_file()  # the points are kept for --resume


def test_sweep_out_on_another_commands_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.experiments.result import Artefacts
    from sim.outputs.artefacts import save

    out = save(Artefacts("run", {"summary.csv": pd.DataFrame({"p_agreed": [0.5]})}), tmp_path / "run")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(execute, "run_sweep", _no_compute)
    assert cli("sweep", BASELINE, "--param", PARAM, "--quiet", "--out", out) == 2
    assert "was written by `ceasefire run`, not `ceasefire sweep`" in one_line(capsys.readouterr().err)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("name", ["x" * 250, os.fsdecode(b"out\xff")], ids=["250 characters", "not UTF-8"])
def test_an_out_name_that_cannot_be_written_is_refused_up_front(name: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execute, "run_sweep", _no_compute)
    assert cli("sweep", BASELINE, "--param", PARAM, "--quiet", "--out", tmp_path / name) == 2
    line = one_line(capsys.readouterr().err)
    assert "name too long" in line or "not valid UTF-8" in line
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- damaged tables


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run") / "r"
    assert cli("run", BASELINE, "--replications", 60, "--horizon", 15, "--no-plots", "--quiet", "--out", folder) == 0
    return folder


@pytest.fixture
def damaged(run_folder: Path, tmp_path: Path) -> Path:
    """A fresh copy of the run's folder (every file its manifest lists, and the manifest), to damage."""
    copy = tmp_path / "r"
    copy.mkdir()
    for path in run_folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def _set_cell(path: Path, row: int, column: str, value: str) -> None:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[row, column] = value
    table.to_csv(path, index=False)


@pytest.mark.parametrize(("name", "column", "value", "expected"), [
    ("survival.csv", "p_holding", "lots", "column p_holding: not a number on line 5: 'lots'"),
    ("survival.csv", "n_worlds", "", "column n_worlds: empty on line 5; a number is required"),
    ("survival.csv", "ci_high", "7.5", "column ci_high: must be a probability in [0, 1] on line 5: 7.5"),
    ("survival.csv", "day", "9", "column day: must run 0, 1, 2, ... without gaps; line 5 has 9"),
    ("trajectories.csv", "escalation_mean", "x", "column escalation_mean: not a number on line 5"),
    ("trajectories.csv", "credibility_p10", "inf", "column credibility_p10: not a finite number on line 5"),
    ("summary.csv", "replications", "many", "column replications: not a number on line 2"),
])
def test_plot_on_a_table_with_a_bad_cell_is_one_line(damaged: Path, name: str, column: str, value: str,
                                                     expected: str, capsys: pytest.CaptureFixture) -> None:
    """`ceasefire plot` refuses a table changed since ceasefire wrote it (its SHA-256), naming it; the figures'
    own reading of a table still names the bad cell, for a folder whose manifest cannot vouch for it."""
    _set_cell(damaged / name, 3 if name != "summary.csv" else 0, column, value)
    before = sorted(p.name for p in damaged.iterdir())
    assert cli("plot", damaged) == 2
    assert one_line(capsys.readouterr().err).endswith(f"{name} was changed after ceasefire wrote it")
    assert sorted(p.name for p in damaged.iterdir()) == before
    with pytest.raises(sim.outputs.plots.runs.PlotInputError) as caught:
        sim.outputs.plots.runs.draw(damaged, ("survival.png", "trajectories.png", "causes.png"))
    assert str(caught.value).startswith(f"{damaged / name}: {expected}")


def test_compare_on_a_truncated_survival_table_is_one_line(run_folder: Path, damaged: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    """`ceasefire compare` refuses the truncated table by its SHA-256 before reading it; the figure's own
    reading still names the missing days."""
    survival = damaged / "survival.csv"
    survival.write_text("".join(survival.read_text().splitlines(keepends=True)[:8]))
    assert cli("compare", run_folder, damaged, "--out", tmp_path / "c.png") == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"error: {damaged}: DIR: survival.csv was changed or damaged after ceasefire wrote it"
    with pytest.raises(sim.outputs.plots.runs.PlotInputError) as caught:
        sim.outputs.plots.runs.compare_dirs([run_folder, damaged], tmp_path / "c.png")
    assert str(caught.value) == (f"{survival}: days 0..6, but summary.csv says the horizon is 15 days "
                                 "(a truncated table)")
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize(("content", "expected"), [
    (b"", "empty file (no header, no rows)"),
    (b"a,b,c\n1,2,3\n", "missing columns: day, n_worlds"),
])
def test_plot_on_an_empty_or_foreign_survival_table_is_one_line(damaged: Path, content: bytes, expected: str,
                                                                capsys: pytest.CaptureFixture) -> None:
    (damaged / "survival.csv").write_bytes(content)
    assert cli("plot", damaged) == 2
    assert one_line(capsys.readouterr().err).endswith(": DIR: survival.csv was changed after ceasefire wrote it")
    with pytest.raises(sim.outputs.plots.runs.PlotInputError) as caught:
        sim.outputs.plots.runs.draw(damaged, ("survival.png",))
    assert str(caught.value).startswith(f"{damaged / 'survival.csv'}: {expected}")


def test_plot_on_a_read_only_folder_is_one_line_and_loses_nothing(damaged: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture) -> None:
    """`ceasefire plot` draws into a new folder beside DIR and swaps it in; a DIR the user may not write cannot
    be moved (the kernel refuses to rename a folder without write permission to another parent). That is the
    environment (exit 1): one line naming DIR, DIR as it was, nothing left beside it."""
    real_replace = os.replace

    def read_only(src: object, dst: object) -> None:  # tests run as root, where chmod would not stop the move
        if Path(str(src)) == damaged:
            raise PermissionError(errno.EACCES, "Permission denied", str(src), str(dst))
        real_replace(src, dst)

    before = snapshot(damaged)
    monkeypatch.setattr(os, "replace", read_only)
    assert cli("plot", damaged) == 1
    assert one_line(capsys.readouterr().err) == (f"error: {damaged}: cannot write (Permission denied); the previous "
                                                 "results, if any, are unchanged")
    assert snapshot(damaged) == before
    assert sorted(p.name for p in damaged.parent.iterdir()) == ["r"]


def test_drawing_a_figure_into_a_read_only_folder_is_one_line(damaged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        path = args[1] if isinstance(args[0], Figure) else args[0]
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    # both ways a figure reaches the disk refuse
    monkeypatch.setattr(Figure, "savefig", refuse)
    monkeypatch.setattr(sim.outputs.plots.runs, "imsave", refuse)
    with pytest.raises(sim.outputs.plots.runs.PlotInputError, match=r"survival.png: cannot write the figure "
                       r"\(Permission denied\); the folder is read-only"):
        sim.outputs.plots.runs.draw(damaged, ("survival.png",))


def test_plot_on_a_sweep_table_with_a_text_axis_value_is_one_line(tmp_path: Path) -> None:
    from sim.outputs.plots.runs import PlotInputError
    from sim.outputs.plots.sweep import draw

    out = tmp_path / "s"
    assert cli("sweep", BASELINE, "--param", PARAM, "--replications", 40, "--horizon", 20, "--workers", 1,
               "--no-plots", "--quiet", "--out", out) == 0
    _set_cell(out / "sweep.csv", 1, "agents.UK.troops", "ten thousand")
    with pytest.raises(PlotInputError) as error:
        draw(out, ("hold.png",))
    assert str(error.value) == f"{out / 'sweep.csv'}: column agents.UK.troops: not a number on line 3: 'ten thousand'"
    _set_cell(out / "sweep.csv", 1, "agents.UK.troops", "10000")
    _set_cell(out / "sweep.csv", 2, "p_hold_horizon", "7.5")
    with pytest.raises(PlotInputError, match=r"p_hold_horizon: must be a probability in \[0, 1\] on line 4: 7.5"):
        draw(out, ("hold.png",))
    assert not list(out.glob("*.png"))


def test_tornado_plot_on_a_text_probability_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from sim.experiments.tornado import TORNADO_COLUMNS
    from sim.outputs.plots.runs import PlotInputError
    from sim.outputs.plots.tornado import draw

    folder = tmp_path / "t"
    folder.mkdir()
    row = {column: 0.5 for column in TORNADO_COLUMNS}
    row.update(parameter="agents.UK.troops", scenario="baseline", day=365, replications=100, seed=1, p_low="half")
    pd.DataFrame([row], columns=list(TORNADO_COLUMNS)).to_csv(folder / "tornado.csv", index=False)
    assert cli("plot", folder) == 2  # no manifest vouches for the table
    assert one_line(capsys.readouterr().err) == (f"error: {folder}: DIR: holds files ceasefire did not write "
                                                 "(no manifest.json; first: tornado.csv)")
    with pytest.raises(PlotInputError) as caught:
        draw(folder, ("tornado.png",))
    assert str(caught.value) == f"{folder / 'tornado.csv'}: column p_low: not a number on line 2: 'half'"
