"""Ownership by content: an output folder or file is replaced only when ceasefire wrote it, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.core.errors import InputError
from sim.experiments.result import Artefacts
from sim.outputs import atomic
from sim.outputs.artefacts import save
from sim.outputs.ownership import (
    check_output_file,
    check_output_folder,
    first_problem,
    is_marked,
    mark_html,
    mark_png,
    verified_file,
)


def artefacts(command: str = "run", value: int = 1) -> Artefacts:
    return Artefacts(command, {"table.csv": pd.DataFrame({"x": [value, 2]})}, {"note": value}, {"notes.md": "# n\n"})


def test_a_new_folder_is_written_with_every_file_hashed(tmp_path: Path):
    out = save(artefacts(), tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "run" and manifest["written_by"] == "ceasefire"
    assert set(manifest["files"]) == {"table.csv", "notes.md"}
    assert first_problem(out, "run") is None


def test_our_own_unchanged_folder_is_replaced(tmp_path: Path):
    out = save(artefacts(value=1), tmp_path / "out")
    save(artefacts(value=7), out)
    assert pd.read_csv(out / "table.csv")["x"].tolist() == [7, 2]


@pytest.mark.parametrize("name", ["my_analysis.csv", "notes.html", "x.md", ".hidden"])
def test_a_file_added_by_the_user_is_refused_and_kept(tmp_path: Path, name: str):
    out = save(artefacts(), tmp_path / "out")
    (out / name).write_text("mine")
    with pytest.raises(InputError, match="did not write"):
        check_output_folder(out, "run")
    with pytest.raises(InputError, match="did not write"):
        save(artefacts(value=3), out)
    assert (out / name).read_text() == "mine"


def test_a_changed_file_is_refused(tmp_path: Path):
    out = save(artefacts(), tmp_path / "out")
    (out / "table.csv").write_text("x\n9\n")
    with pytest.raises(InputError, match="table.csv was changed"):
        check_output_folder(out, "run")


def test_another_command_s_folder_is_refused(tmp_path: Path):
    out = save(artefacts("sweep"), tmp_path / "out")
    with pytest.raises(InputError, match="ceasefire sweep"):
        check_output_folder(out, "run")


def test_a_look_alike_manifest_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"versions": {"numpy": "2"}, "seed": 42, "written_by": "ceasefire"}))
    (out / "predictions.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="not one ceasefire wrote"):
        check_output_folder(out, "run")
    assert (out / "predictions.csv").read_text() == "a\n1\n"


def test_a_folder_with_only_a_user_file_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "validation.csv").write_text("mine")
    with pytest.raises(InputError, match="no manifest.json"):
        check_output_folder(out, "validation")


def test_a_file_planted_during_the_run_survives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = save(artefacts(), tmp_path / "out")
    planted = out / "planted.csv"
    real = atomic.move_into_place

    def plant_then_move(tmp: Path, out_dir: Path, command: str, flag: str = "--out") -> None:
        planted.write_text("planted")
        real(tmp, out_dir, command, flag)

    monkeypatch.setattr(atomic, "move_into_place", plant_then_move)
    with pytest.raises(atomic.ForeignFileError, match="planted.csv"):
        save(artefacts(value=5), out)
    assert planted.read_text() == "planted"
    assert pd.read_csv(out / "table.csv")["x"].tolist() == [1, 2]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary folder left behind"


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path: Path):
    out = tmp_path / "out"
    code = ("import sys, time; from sim.outputs.atomic import claim\n"
            "with claim(sys.argv[1]):\n    print('held', flush=True); sys.stdin.readline()\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    try:
        assert holder.stdout.readline().strip() == "held"  # waits for the state, not for a time
        with pytest.raises(InputError, match="in use by another ceasefire command"):
            save(artefacts(), out)
    finally:
        holder.communicate("\n", timeout=30)
    save(artefacts(), out)  # released when its holder ends


def test_a_crashed_holder_leaves_no_stale_lock(tmp_path: Path):
    out = tmp_path / "out"
    code = "import os, sys; from sim.outputs.atomic import claim\nwith claim(sys.argv[1]):\n    os._exit(9)\n"
    done = subprocess.run([sys.executable, "-c", code, str(out)], env={**os.environ,
                          "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 9
    assert atomic.lock_path(out).exists()  # the crash left the file, but not the lock
    save(artefacts(), out)


def test_committed_data_folders_are_refused():
    from sim.core.bundled import checkout_root

    root = checkout_root()
    if root is None:
        pytest.skip("not a checkout")
    for folder in (root / "seeds" / "posterior", root / "seeds", root / "scenarios" / "sweeps"):
        with pytest.raises(InputError, match="committed data|bundled"):
            check_output_folder(folder, "run")


def test_an_output_name_that_is_not_utf8_or_too_long_is_refused(tmp_path: Path):
    with pytest.raises(InputError, match="not valid UTF-8"):
        check_output_folder(Path(os.fsdecode(bytes(tmp_path) + b"/bad\xff")), "run")
    with pytest.raises(InputError, match="name too long"):
        check_output_folder(tmp_path / ("x" * 250), "run")


def test_marked_files_are_recognised_and_foreign_ones_refused(tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, _ = plt.subplots()
    png = tmp_path / "plain.png"
    figure.savefig(png)
    plt.close(figure)
    assert not is_marked(png)
    with pytest.raises(InputError, match="not written by ceasefire"):
        check_output_file(png, ".png")
    marked = tmp_path / "ours.png"
    marked.write_bytes(mark_png(png.read_bytes()))
    assert is_marked(marked)
    check_output_file(marked, ".png")
    tampered = bytearray(marked.read_bytes())
    tampered[-20] ^= 1
    marked.write_bytes(bytes(tampered))
    assert not is_marked(marked)
    html = tmp_path / "report.html"
    html.write_text(mark_html("<html><head><title>t</title></head><body>x</body></html>"))
    assert is_marked(html)
    html.write_text(html.read_text().replace("<body>x", "<body>y"))
    assert not is_marked(html)
    check_output_file(html, ".html", force=True)


def test_a_damaged_table_is_named(tmp_path: Path):
    out = save(artefacts(), tmp_path / "out")
    assert verified_file(out, "table.csv") == out / "table.csv"
    data = (out / "table.csv").read_bytes()
    (out / "table.csv").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="table.csv was changed or damaged"):
        verified_file(out, "table.csv")
