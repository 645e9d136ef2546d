"""``--scheduler`` on ``screen`` (and its ``--inert`` mode) and ``calibrate``, the jobs that outgrow one machine
(issue 24, item 6): on a local Dask cluster each writes the same bytes as on local processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sim.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent


def ceasefire(*argv: object) -> int:
    """``ceasefire ARGS`` through ``sim.cli.main.main`` (its error handling and exit codes)."""
    return cli.main([str(a) for a in argv])


def _same_bytes_on_a_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple,
                             names: tuple[str, ...]) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    assert ceasefire(*args, "--workers", 2, "--out", tmp_path / "local") == 0
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        assert ceasefire(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask") == 0
    for name in names:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_screen_gives_the_same_bytes_on_a_dask_cluster(tmp_path, monkeypatch):
    args = ("screen", "--trajectories", 2, "--replications", 30, "--horizon", 60, "--sobol-samples", 0, "--quiet")
    _same_bytes_on_a_cluster(tmp_path, monkeypatch, args, ("morris.csv", "morris_points.csv"))


def test_screen_inert_gives_the_same_bytes_on_a_dask_cluster(tmp_path, monkeypatch):
    args = ("screen", "--inert", "--replications", 20, "--horizon", 40, "--quiet")
    _same_bytes_on_a_cluster(tmp_path, monkeypatch, args, ("inert.csv",))


def test_calibrate_gives_the_same_posterior_on_a_dask_cluster(tmp_path, monkeypatch):
    pytest.importorskip("pyabc")
    args = ("calibrate", "--particles", 12, "--generations", 2, "--worlds", 60, "--quiet")
    _same_bytes_on_a_cluster(tmp_path, monkeypatch, args, ("posterior.csv", "posterior_summary.csv"))
