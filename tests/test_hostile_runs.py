"""A careless or hostile user against ``run``, ``compare``, ``plot`` and ``report``: never destroy or write
through a file ceasefire did not write, never read a table changed since it was written, refuse before
computing, and say so in one line (exit 2)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

import sim.engine.runner
import sim.experiments.posterior_run
import sim.experiments.run
import sim.outputs.artefacts
import sim.outputs.plots
from sim.experiments.result import Artefacts
from sim.outputs.artefacts import save
from sim.outputs.ownership import WRITTEN_BY, folder_records, is_marked, mark_html, mark_png
from tests.hostile import BASELINE, FOREIGN, ROOT, TINY_RUN, one_error_line, run_cli, snapshot


@pytest.fixture()
def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation fails the test: refusals must come before the work."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed before refusing")

    for module, name in ((sim.experiments.run, "run_scenario"), (sim.experiments.posterior_run, "run_with_posterior"),
                         (sim.engine.runner, "run_worlds")):
        monkeypatch.setattr(module, name, forbidden)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ours") / "r"
    assert run_cli("run", BASELINE, *TINY_RUN[:-1], "--out", out) == 0  # with its figures
    return out


@pytest.fixture()
def own_copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "r"
    shutil.copytree(run_dir, copy)
    return copy


# --------------------------------------------------------------------------- run --out


@pytest.mark.parametrize("name", ["my_analysis.csv", "my_analysis.md", "my_analysis.html", "drafts"])
def test_a_file_planted_in_a_run_folder_survives_run_out(
        name: str, own_copy: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    if name == "drafts":  # a folder of the user's own
        (own_copy / name).mkdir()
        (own_copy / name / "thesis.tex").write_bytes(FOREIGN)
    else:
        (own_copy / name).write_bytes(FOREIGN)
    before = snapshot(own_copy)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", own_copy) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {own_copy}: --out: ") and f"did not write: {name}" in err
    assert snapshot(own_copy) == before


def test_a_look_alike_manifest_does_not_make_a_folder_ours(
        tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"command": "run", "written_by": WRITTEN_BY, "seed": 42}))
    (folder / "predictions.csv").write_text("a\n1\n")
    before = snapshot(folder)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", folder) == 2
    assert "manifest.json is not one ceasefire wrote" in one_error_line(capsys.readouterr().err)
    assert snapshot(folder) == before


def test_a_run_folder_whose_table_was_edited_is_refused(
        own_copy: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    (own_copy / "summary.csv").write_text("scenario\nmy own numbers\n")
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", own_copy) == 2
    assert "summary.csv was changed after ceasefire wrote it" in one_error_line(capsys.readouterr().err)
    assert (own_copy / "summary.csv").read_text() == "scenario\nmy own numbers\n"


def test_another_command_s_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    the_bet = save(Artefacts("bet", {"the_bet.csv": pd.DataFrame({"troops": [0, 5000]})}), tmp_path / "the_bet")
    before = snapshot(the_bet)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", the_bet) == 2
    assert "was written by `ceasefire bet`, not `ceasefire run`" in one_error_line(capsys.readouterr().err)
    assert snapshot(the_bet) == before


@pytest.mark.parametrize("inside", ["seeds/posterior", "seeds", "scenarios", "sim/data/scenarios"])
def test_the_committed_data_is_never_an_output(
        inside: str, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    target = ROOT / inside
    before = snapshot(target)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", target) == 2
    err = one_error_line(capsys.readouterr().err)
    assert "holds the project's committed data" in err or "bundled" in err or "input file" in err
    assert snapshot(target) == before


@pytest.mark.parametrize("name", [os.fsdecode(b"out-\xff"), "x" * 250])
def test_an_output_name_that_cannot_be_written_is_refused_up_front(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / name) == 2
    err = one_error_line(capsys.readouterr().err)
    assert "not valid UTF-8" in err or "name too long" in err
    assert list(tmp_path.iterdir()) == []


def test_out_naming_the_scenarios_folder_of_the_input_deletes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(BASELINE, scenarios / "baseline.yaml")
    (scenarios / "mine.yaml").write_text("name: mine\n")
    before = snapshot(scenarios)
    for out in (scenarios, tmp_path):
        assert run_cli("run", scenarios / "baseline.yaml", *TINY_RUN, "--out", out) == 2
        assert "holds the input file baseline.yaml" in one_error_line(capsys.readouterr().err)
    assert snapshot(scenarios) == before


def test_out_holding_the_posterior_file_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    folder = tmp_path / "fit"
    folder.mkdir()
    posterior = folder / "posterior.csv"
    posterior.write_text("model.intent_variance,weight\n1.0,1\n2.0,1\n")
    assert run_cli("run", BASELINE, *TINY_RUN, "--posterior", posterior, "--draws", "2", "--out", folder) == 2
    assert "holds the input file posterior.csv" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in folder.iterdir()) == ["posterior.csv"]


def test_a_scenario_named_dot_cannot_replace_the_results_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_compute: None) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "earlier").mkdir(parents=True)
    (tmp_path / "results" / "earlier" / "notes.txt").write_text("keep")
    for name in (".", ".."):
        dotted = tmp_path / f"dotted{len(name)}.yaml"
        dotted.write_text(BASELINE.read_text(encoding="utf-8").replace("name: baseline", f'name: "{name}"', 1))
        assert run_cli("run", dotted, *TINY_RUN) == 2
    assert snapshot(tmp_path / "results") == {"earlier/notes.txt": b"keep"}


def test_a_symlinked_or_file_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "file").write_bytes(b"x")
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / "link") == 2
    assert "is a symbolic link" in one_error_line(capsys.readouterr().err)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / "file") == 2
    assert "exists and is not a folder" in one_error_line(capsys.readouterr().err)
    assert (tmp_path / "file").read_bytes() == b"x" and list(target.iterdir()) == []


def test_our_own_unchanged_run_folder_is_replaced_and_nothing_left_beside(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run_cli("run", BASELINE, *TINY_RUN, "--seed", "1", "--out", out) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "run" and manifest["written_by"] == WRITTEN_BY and "kind" not in manifest
    assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {"manifest.json"}
    assert run_cli("run", BASELINE, *TINY_RUN, "--seed", "2", "--out", out) == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_empty_out_folder_is_accepted_and_nothing_left_beside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", out) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_manifest_stripped_of_its_file_list_is_not_ours(
        own_copy: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    manifest = json.loads((own_copy / "manifest.json").read_text())
    del manifest["files"]
    (own_copy / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(own_copy)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", own_copy) == 2
    assert "is not one ceasefire wrote" in one_error_line(capsys.readouterr().err)
    assert snapshot(own_copy) == before


@pytest.mark.parametrize("failing", ["every rename", "the final rename"])
def test_disk_full_while_replacing_gives_exit_1_one_line_and_keeps_old_results(
        failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", out) == 0
    before = snapshot(out)
    real_replace = os.replace

    def full_disk(src: object, dst: object) -> None:
        if failing == "every rename" or ".partial-" in str(src):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    assert run_cli("run", BASELINE, *TINY_RUN, "--seed", "9", "--out", out) == 1
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {out}: cannot write (No space left on device)")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_an_unwritable_disk_mid_run_gives_exit_1_and_one_line(
        code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def refused(table: object, path: Path) -> Path:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(sim.outputs.artefacts, "write_csv", refused)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / "out") == 1
    assert f"cannot write ({os.strerror(code)})" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_workers_beyond_the_work_are_capped_and_the_effective_number_recorded(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run_cli("run", BASELINE, *TINY_RUN, "--workers", "1000", "--out", out) == 0
    assert "note: --workers 1000 capped at 1" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["workers"] == 1


# --------------------------------------------------------------------------- plot DIR


def test_plot_through_a_symlinked_figure_leaves_its_target_unchanged(
        own_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    outside = tmp_path / "precious.png"
    outside.write_bytes(b"my own picture")
    (own_copy / "causes.png").unlink()
    (own_copy / "causes.png").symlink_to(outside)
    assert run_cli("plot", own_copy) == 2
    assert "causes.png is not a regular file ceasefire wrote" in one_error_line(capsys.readouterr().err)
    assert outside.read_bytes() == b"my own picture" and (own_copy / "causes.png").is_symlink()


def test_plot_on_a_folder_without_manifest_is_refused_and_the_figures_kept(
        run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("survival.csv", "summary.csv", "trajectories.csv"):
        shutil.copy(run_dir / name, bare / name)
    (bare / "survival.png").write_bytes(b"my own figure")
    before = snapshot(bare)
    assert run_cli("plot", bare) == 2
    assert "holds files ceasefire did not write (no manifest.json" in one_error_line(capsys.readouterr().err)
    assert snapshot(bare) == before


def test_plot_on_a_truncated_table_exits_2_naming_it(own_copy: Path, capsys: pytest.CaptureFixture) -> None:
    table = own_copy / "survival.csv"
    table.write_bytes(table.read_bytes()[:300])
    before = snapshot(own_copy)
    assert run_cli("plot", own_copy) == 2
    assert "survival.csv was changed after ceasefire wrote it" in one_error_line(capsys.readouterr().err)
    assert snapshot(own_copy) == before


def test_plot_redraws_the_folder_of_any_command_through_redraw(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    def fake_draw(command: str, folder: Path, figures: tuple[str, ...]) -> list[str]:
        calls.append((command, tuple(figures)))
        for name in figures:
            (folder / name).write_bytes(b"\x89PNG fake " + command.encode())
        return list(figures)

    monkeypatch.setattr(sim.outputs.plots, "draw", fake_draw)
    out = save(Artefacts("sweep", {"sweep.csv": pd.DataFrame({"point": [0, 1]})}, figures=("hold.png",)),
               tmp_path / "sweep")
    assert run_cli("plot", out) == 0
    assert calls == [("sweep", ("hold.png",)), ("sweep", ("hold.png",))]  # drawn when saved, then redrawn
    assert f"wrote {out / 'hold.png'}" in capsys.readouterr().out


# --------------------------------------------------------------------------- compare and report


@pytest.mark.parametrize(("command", "suffix", "table"), [("compare", ".png", "survival.csv"),
                                                          ("report", ".html", "summary.csv")])
def test_file_out_onto_a_run_table_is_refused_and_the_table_unchanged(
        command: str, suffix: str, table: str, run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    before = snapshot(run_dir)
    assert run_cli(command, run_dir, "--out", run_dir / table) == 2
    assert f"--out: must be a {suffix} file name" in one_error_line(capsys.readouterr().err)
    assert snapshot(run_dir) == before


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("report", ".html")])
def test_an_existing_file_is_replaced_only_if_ceasefire_wrote_it_or_with_force(
        command: str, suffix: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / f"mine{suffix}"
    theirs = run_dir.joinpath("survival.png").read_bytes() if suffix == ".png" else b"<html><head></head></html>"
    out.write_bytes(theirs)  # a real PNG or page, but not marked as ceasefire's
    assert run_cli(command, run_dir, "--out", out) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {out}: --out: exists and was not written by ceasefire") and "--force" in err
    assert out.read_bytes() == theirs
    assert run_cli(command, run_dir, "--out", out, "--force") == 0
    assert is_marked(out)
    assert run_cli(command, run_dir, "--out", out) == 0  # now ceasefire's own
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("report", ".html")])
def test_a_marked_file_edited_since_is_no_longer_ours(
        command: str, suffix: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / f"edited{suffix}"
    if suffix == ".png":
        marked = mark_png(run_dir.joinpath("survival.png").read_bytes())
        edited = marked[:-20] + b"x" + marked[-19:]
    else:
        edited = mark_html("<!DOCTYPE html><html><head></head><body>report</body></html>").replace("report", "mine")
    out.write_bytes(edited if isinstance(edited, bytes) else edited.encode())
    before = out.read_bytes()
    assert run_cli(command, run_dir, "--out", out) == 2
    assert "was not written by ceasefire" in one_error_line(capsys.readouterr().err)
    assert out.read_bytes() == before


@pytest.mark.parametrize("command", ["compare", "report"])
def test_a_truncated_table_of_an_input_run_exits_2_naming_it(
        command: str, own_copy: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    table = own_copy / "survival.csv"
    table.write_bytes(table.read_bytes()[:300])
    out = tmp_path / ("c.png" if command == "compare" else "r.html")
    assert run_cli(command, run_dir, own_copy, "--out", out) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {own_copy}: DIR: survival.csv was changed or damaged")
    assert not out.exists()


@pytest.mark.parametrize("command", ["compare", "report"])
def test_a_folder_with_a_crafted_manifest_is_read_only_as_far_as_its_tables_check_out(
        command: str, own_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Rewriting the manifest to match damaged tables gets past the hashes, not past the table checks."""
    (own_copy / "survival.csv").write_text("day,p_holding\n0,1\n")
    manifest = json.loads((own_copy / "manifest.json").read_text())
    (own_copy / "manifest.json").write_text(json.dumps({**manifest, "files": folder_records(own_copy)}))
    out = tmp_path / ("c.png" if command == "compare" else "r.html")
    assert run_cli(command, own_copy, "--out", out) == 2
    assert "survival.csv: missing columns" in one_error_line(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("report", ".html")])
def test_file_out_onto_a_fifo_standing_for_a_device_node_is_refused(
        command: str, suffix: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    node = tmp_path / f"full{suffix}"
    os.mkfifo(node)
    assert run_cli(command, run_dir, "--out", node) == 2
    assert "is not a regular file" in one_error_line(capsys.readouterr().err)
    assert stat.S_ISFIFO(os.lstat(node).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [node.name]


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("report", ".html")])
def test_file_out_through_a_symlink_is_refused(
        command: str, suffix: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    real = tmp_path / f"real{suffix}"
    real.write_bytes(b"mine")
    (tmp_path / f"link{suffix}").symlink_to(real)
    assert run_cli(command, run_dir, "--out", tmp_path / f"link{suffix}", "--force") == 2
    assert "is a symbolic link" in one_error_line(capsys.readouterr().err)
    assert real.read_bytes() == b"mine" and (tmp_path / f"link{suffix}").is_symlink()


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("report", ".html")])
def test_file_out_inside_the_committed_data_is_refused(
        command: str, suffix: str, run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    out = ROOT / "seeds" / "posterior" / f"x{suffix}"
    assert run_cli(command, run_dir, "--out", out) == 2
    assert "holds the project's committed data" in one_error_line(capsys.readouterr().err)
    assert not out.exists()
