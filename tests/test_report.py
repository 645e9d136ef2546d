"""Tests for ``ceasefire report``: one self-contained HTML file, checked as text and in headless chromium."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim.api import save_run
from sim.cli.main import main
from sim.experiments.run import run_scenario
from sim.outputs.ownership import folder_records, is_marked, mark_html
from sim.outputs.report import CSP, build_report
from sim.spec.scenario import load_scenario
from tests import browser

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
REPLICATIONS, HORIZON = "300", "400"
PNG_PREFIX = "data:image/png;base64,"
HOSTILE = '<script>alert("x")</script> & <b>bold?</b>'


class Page(HTMLParser):
    """What a test needs from an HTML page: images, table captions and headers, text, override rows."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.captions: list[str] = []
        self.headers: list[str] = []
        self.tables = 0
        self.scripts = 0
        self.texts: list[str] = []
        self.by_id: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()
        self.text = " ".join(" ".join(self.texts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tables += tag == "table"
        self.scripts += tag == "script"
        if tag == "img":
            self.images.append(attributes)
        elif tag in ("caption", "th", "pre"):
            self._open.append((tag, attributes.get("id")))
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1][0] == tag:
            _, ident = self._open.pop()
            content = " ".join(self.texts[-1].split())
            {"caption": self.captions, "th": self.headers}.get(tag, []).append(content)
            if ident:
                self.by_id[ident] = self.texts[-1]

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[-1] += data
        else:
            self.texts.append(data)


def run_cli(*args: str | Path) -> int:
    return main([str(a) for a in args])


def cli_run(scenario: str, out: Path, horizon: str = HORIZON) -> Path:
    """A small run of a bundled scenario, tables only: the report must redraw every figure from CSV."""
    code = run_cli("run", SCENARIOS / f"{scenario}.yaml", "--replications", REPLICATIONS, "--horizon", horizon,
                   "--out", out, "--quiet", "--no-plots")
    assert code == 0
    assert not list(out.glob("*.png"))
    return out


def share(row: pd.Series, key: str) -> str:
    """How the report prints a probability: percent, one decimal, 95 % interval in brackets."""
    return f"{100 * row[key]:.1f} % [{100 * row[key + '_ci_low']:.1f}–{100 * row[key + '_ci_high']:.1f}]"


def png_size(src: str) -> tuple[int, int]:
    """Width and height in a PNG data URI's IHDR chunk."""
    data = base64.b64decode(src[len(PNG_PREFIX):], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    return cli_run("baseline", root / "baseline"), cli_run("no_european_troops", root / "no_european_troops")


@pytest.fixture(scope="module")
def report(runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    assert run_cli("report", *runs, "--out", out) == 0
    return out


@pytest.fixture(scope="module")
def page(report: Path) -> Page:
    return Page(report.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def short_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run with a 100-day horizon, no trajectories.csv and hostile text in its description."""
    root = tmp_path_factory.mktemp("short")
    scenario = load_scenario(SCENARIOS / "baseline.yaml",
                             {"replications": 300, "horizon_days": 100, "description": HOSTILE})
    run = save_run(run_scenario(scenario, record_trajectories=False), root / "short", plots=False)
    assert not (run / "trajectories.csv").exists()
    return build_report([run], root / "short.html")


# --------------------------------------------------------------------------- content


def test_report_is_one_self_contained_file(report: Path, page: Page) -> None:
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text, re.IGNORECASE)
    assert "<link" not in text and "url(" not in text and "@import" not in text
    assert page.scripts == 0
    assert f'http-equiv="Content-Security-Policy" content="{html.escape(CSP)}"' in text
    assert len(page.images) == 2 + 3 * 2  # two comparison plots; survival, causes, trajectories per run
    for image in page.images:
        assert image["src"].startswith(PNG_PREFIX)
        width, height = png_size(image["src"])
        assert width > 300 and height > 200
        assert len(image["alt"]) > 40
    assert not list(report.parent.glob(".*partial"))


def test_report_shows_each_runs_question_settings_and_headline_figures(runs: tuple[Path, Path], page: Page) -> None:
    for run in runs:
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        assert " ".join(manifest["scenario"]["description"].split()) in page.text
        row = pd.read_csv(run / "summary.csv").iloc[0]
        for key in ("p_agreed", "p_hold_90", "p_hold_365", "p_hold_horizon"):
            assert page.text.count(share(row, key)) >= 2, key  # in the run's section and the comparison
        assert str(run) in page.text
    assert "seed" in page.text and "20261125" in page.text


def test_report_tables_have_captions_and_headers(page: Page) -> None:
    assert page.tables == 1 + 4 * 2  # comparison; settings, headline, causes, parameters per run
    assert len(page.captions) == page.tables
    expected = ["Headline probabilities of every run", "Key settings", "Headline probabilities, %",
                "How the worlds ended by day 400 (N = 300)", "Parameters of this run"]
    for start in expected:
        assert any(c.startswith(start) for c in page.captions), start
    for header in ("quantity", "baseline", "no_european_troops", "provenance", "evidence", "given a deal"):
        assert header in page.headers


def test_parameters_show_provenance_and_mark_scenario_overrides(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    baseline, no_troops = text.split('<section id="run-1">')[1].split('<section id="run-2">')
    assert 'class="override"' not in baseline  # the baseline takes every default
    assert "none: every parameter is the commitments&#x27; default" in baseline
    assert "<td>inspired</td>" in baseline and "« Londres et Paris" in baseline
    for owner in ("UK", "FR", "DE"):
        assert f'<tr class="override"><td>{owner}</td><td><code>troops</code></td><td class="num">0</td>' in no_troops
    assert no_troops.count('class="override"') == 4  # UK, FR, DE troops and DE neighbour troops
    assert "default 10,000 (external): Washington Post" in no_troops


def test_short_run_report_escapes_text_and_says_what_is_missing(short_report: Path) -> None:
    text = short_report.read_text(encoding="utf-8")
    page = Page(text)
    assert page.scripts == 0 and "<b>bold" not in text
    assert html.escape(HOSTILE) in text
    assert "P(holding at 365 days) n/a (beyond horizon) n/a (beyond horizon)" in page.text
    assert "trajectories were not recorded" in page.text
    assert "Comparison of the runs" not in page.text
    assert len(page.images) == 2


# --------------------------------------------------------------------------- damaged input


def _rewrite_csv(name: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def damage(run: Path) -> None:
        edit(pd.read_csv(run / name)).to_csv(run / name, index=False)
    return damage


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda run: (run / name).write_text(text, encoding="utf-8")


def _foreign(run: Path) -> None:
    shutil.rmtree(run)
    run.mkdir()
    (run / "notes.txt").write_text("not a run\n", encoding="utf-8")


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing survival.csv": (lambda run: (run / "survival.csv").unlink(), "survival.csv: file not found"),
    "wrong columns": (_rewrite_csv("summary.csv", lambda t: t.drop(columns=["p_agreed", "share_held"])),
                      "summary.csv: missing columns: share_held, p_agreed"),
    "empty CSV": (_write("survival.csv", ""), "survival.csv: empty file"),
    "foreign trajectories": (_write("trajectories.csv", "day,credibility_mean\n0,0.5\n"),
                             "trajectories.csv: missing columns: credibility_p10"),
    "no rows": (_rewrite_csv("summary.csv", lambda t: t.iloc[:0]), "summary.csv: empty table"),
    "text in a number column": (_rewrite_csv("summary.csv", lambda t: t.assign(p_agreed="lots")),
                                "summary.csv: column p_agreed: not a number on line 2: 'lots'"),
}
"""Damaged tables, and what the report says of each when the manifest was rewritten to match them (a
crafted folder); otherwise the manifest's SHA-256 catches them first."""

FOLDER_DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "broken manifest": (_write("manifest.json", '{"scenario": {'), "manifest.json: not valid JSON (line 1"),
    "foreign manifest": (_write("manifest.json", "[1, 2]"), "manifest.json: expected a JSON object"),
    "manifest without scenario": (_write("manifest.json", '{"seed": 1}'), "manifest.json: scenario: missing"),
    "missing manifest": (lambda run: (run / "manifest.json").unlink(), "manifest.json: file not found"),
    "foreign folder": (_foreign, ": not a run folder written by `ceasefire run`"),
    "missing folder": (shutil.rmtree, ": not a folder"),
    "another command's folder": (lambda run: _edit_manifest(run, command="sweep"),
                                 "was written by `ceasefire sweep`, not `ceasefire run`"),
    "manifest without hashes": (lambda run: _edit_manifest(run, files=None), "has no manifest.json of ceasefire's"),
}


def _edit_manifest(run: Path, **fields: object) -> None:
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    (run / "manifest.json").write_text(json.dumps({**manifest, **fields}), encoding="utf-8")


def _rehash(run: Path) -> None:
    """List the folder's files as they now are in its manifest: what a hostile user could do."""
    _edit_manifest(run, files=folder_records(run))


def _previous_report(out: Path) -> str:
    """A report ceasefire wrote earlier (it carries the mark), which a failed report must leave as it was."""
    text = mark_html("<!DOCTYPE html>\n<html><head><title>old</title></head><body>previous report</body></html>\n")
    out.write_text(text, encoding="utf-8")
    return text


def _refused(damaged: Path, runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    out = tmp_path / "report.html"
    previous = _previous_report(out)
    capsys.readouterr()
    assert run_cli("report", runs[1], damaged, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {damaged}")
    assert "Traceback" not in err
    assert out.read_text(encoding="utf-8") == previous
    assert not list(tmp_path.glob(".*")), "a temporary or lock file was left behind"
    return err


def _damaged(run: Path, tmp_path: Path, damage: Callable[[Path], None], rehash: bool = False) -> Path:
    """A copy of ``run`` damaged by ``damage``; with ``rehash``, its manifest then lists the files as they are."""
    damaged = tmp_path / "damaged"
    shutil.copytree(run, damaged)
    damage(damaged)
    if rehash:
        _rehash(damaged)
    return damaged


@pytest.mark.parametrize("case", list(DAMAGES))
def test_a_changed_table_exits_2_naming_it_and_keeps_the_old_report(
    case: str, runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _refused(_damaged(runs[0], tmp_path, DAMAGES[case][0]), runs, tmp_path, capsys)
    name = next(n for n in ("survival.csv", "summary.csv", "trajectories.csv") if n in err)
    assert f"{name} was changed or damaged after ceasefire wrote it" in err or f"cannot read {name}" in err


@pytest.mark.parametrize("case", list(DAMAGES))
def test_a_damaged_table_with_a_matching_manifest_exits_2_naming_the_file(
    case: str, runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage, message = DAMAGES[case]
    if case == "missing survival.csv":
        message = "survival.csv is not listed in its manifest.json"
    assert message in _refused(_damaged(runs[0], tmp_path, damage, rehash=True), runs, tmp_path, capsys)


@pytest.mark.parametrize("case", list(FOLDER_DAMAGES))
def test_a_damaged_or_foreign_folder_exits_2_naming_what_is_wrong(
    case: str, runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage, message = FOLDER_DAMAGES[case]
    assert message in _refused(_damaged(runs[0], tmp_path, damage), runs, tmp_path, capsys)


def test_out_that_is_a_folder_exits_2(runs: tuple[Path, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "report.html"
    folder.mkdir()
    assert run_cli("report", runs[0], "--out", folder) == 2
    assert f"error: {folder}: --out: is a folder" in capsys.readouterr().err


def test_the_report_replaces_only_a_report_ceasefire_wrote_unless_forced(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    out.write_text("<html>my notes</html>", encoding="utf-8")
    assert run_cli("report", runs[0], "--out", out) == 2
    assert "exists and was not written by ceasefire; give a new file name, or --force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "<html>my notes</html>"
    assert run_cli("report", runs[0], "--out", out, "--force") == 0
    assert is_marked(out)
    assert run_cli("report", *runs, "--out", out) == 0  # its own report: replaced without --force
    assert "Comparison of the runs" in out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- real browser

IMAGE_CHECK = """<script>
function lastRowOpaque(img) {  // drawing decodes the image; a truncated PNG leaves its last row transparent
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const row = context.getImageData(0, img.naturalHeight - 1, img.naturalWidth, 1).data;
  return row.every((value, k) => k % 4 !== 3 || value === 255);
}
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "image-check";
  out.textContent = JSON.stringify(Array.from(document.images, img => img.complete && img.naturalWidth > 0
    ? [img.naturalWidth, img.naturalHeight, lastRowOpaque(img)] : [0, 0, false]));
  document.body.appendChild(out);
});
</script>
"""
"""Injected into a copy of the report only. The load event waits for every image; the handler then,
synchronously (so ``--dump-dom`` cannot race it), records each image's natural size (0 if broken) and
draws it on a canvas to check its last row of pixels is opaque (matplotlib figures are; a PNG truncated
mid-data decodes only in part and is not), and writes the outcome into the DOM for ``--dump-dom``."""


@pytest.fixture(scope="module")
def chromium() -> str:
    """The chromium binary; skip when missing, unless CEASEFIRE_REQUIRE_BROWSER=1 (CI), where it is a failure."""
    binary = browser.find_chromium()
    if binary is None:
        reason = "chromium not found (apt-get install chromium)"
        if os.environ.get("CEASEFIRE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason} but CEASEFIRE_REQUIRE_BROWSER=1")
        pytest.skip(f"{reason}; set CEASEFIRE_REQUIRE_BROWSER=1 to make this a failure")
    return binary


def test_report_renders_in_headless_chromium_with_every_image_decoded(
    chromium: str, report: Path, page: Page, runs: tuple[Path, Path], tmp_path: Path
) -> None:
    text = report.read_text(encoding="utf-8")
    policy = html.escape(CSP)
    assert text.count(policy) == 1 and text.count("</body>") == 1
    # the copy keeps the ban on any fetch (images from data: URIs only) but allows the one inline script
    allowed = html.escape(CSP + "; script-src 'unsafe-inline'")
    checked = text.replace(policy, allowed).replace("</body>", IMAGE_CHECK + "</body>")
    copy = tmp_path / "checked.html"
    copy.write_text(checked, encoding="utf-8")

    dom = Page(browser.dump_dom(copy))

    assert dom.tables == page.tables and dom.captions == page.captions and dom.headers == page.headers
    row = pd.read_csv(runs[0] / "summary.csv").iloc[0]
    assert share(row, "p_agreed") in dom.text
    assert [i["alt"] for i in dom.images] == [i["alt"] for i in page.images]
    assert "image-check" in dom.by_id, "the page's load event never ran"
    decoded = json.loads(dom.by_id["image-check"])
    expected = [png_size(i["src"]) for i in page.images]
    assert [(w, h) for w, h, _ in decoded] == expected, "an image did not decode to its PNG's size"
    assert all(opaque for _, _, opaque in decoded), f"an image decoded only in part: {decoded}"
