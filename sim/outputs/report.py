"""One self-contained HTML report of one or more run folders, readable offline.

First, when there are several runs, a comparison: their headline probabilities with 95 % intervals and
their survival curves overlaid. Then for each run: the question its scenario asks, its key settings,
P(deal) and P(holding) with 95 % intervals and what the empirical record covers of them (its horizon and the
structures its held-out part rejects: ``summary.csv``'s ``validity``, :mod:`sim.stats.validity`), the survival,
cause and trajectory figures, and every agent and model parameter with its provenance (marking the scenario's
overrides of ``seeds/commitments.yaml``).
Figures are redrawn from the folder's CSV tables with :mod:`sim.outputs.plots.runs` and
embedded as base64 PNG data URIs, so a folder holding only CSV files and ``manifest.json`` still
reports. Only folders ``ceasefire run`` wrote are read, each table checked against its manifest's SHA-256
(:mod:`sim.outputs.run_folder`). The page has inline CSS, no script and a Content-Security-Policy that
forbids any fetch, and carries ceasefire's mark (:func:`sim.outputs.ownership.mark_html`), so that a
later report may replace it.

Example::

    from sim.outputs.report import build_report
    build_report([Path("results/baseline"), Path("results/no_european_troops")], Path("results/report.html"))
"""

from __future__ import annotations

import base64
import html
import json
import math
import numbers
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.outputs.atomic import atomic_file
from sim.outputs.ownership import MANIFEST, mark_html
from sim.outputs.plots.runs import (
    CAUSE_LABELS,
    SUMMARY_COLUMNS,
    SURVIVAL_COLUMNS,
    TRAJECTORY_COLUMNS,
    plot_causes,
    plot_compare,
    plot_survival,
    plot_trajectories,
    read_table,
    unique_labels,
)
from sim.outputs.run_folder import verified_run_folder
from sim.spec.sources import COMMITMENTS_FILE, evidence_text, load_commitments
from sim.stats.metrics import CAUSES, HOLD_DAYS, wilson_interval
from sim.stats.posterior import INTERVAL_KIND
from sim.stats.validity import BEYOND, SEPARATOR, WITHIN, Validity, in_words, parse_validity, run_validity, structure_of

SUMMARY = "summary.csv"
SURVIVAL = "survival.csv"
TRAJECTORIES = "trajectories.csv"
"""Files the report reads from a run folder; ``trajectories.csv`` is optional (``save_run`` may omit it)."""
DRAWS = "draws.csv"
"""One row per posterior draw, in a folder of ``ceasefire run --posterior`` (read when its manifest says so)."""

HOLD_HEADLINES: tuple[tuple[str, str, int | None], ...] = (
    *((f"p_hold_{day}", f"P(holding at {day} days)", day) for day in HOLD_DAYS),
    ("p_hold_horizon", "P(holding at the horizon)", None),
)
"""Summary columns of P(holding), their labels and their day (None: the horizon)."""
HEADLINES: tuple[tuple[str, str], ...] = (("p_agreed", "P(deal)"), *((k, label) for k, label, _ in HOLD_HEADLINES))
"""Summary probabilities (each with ``_ci_low``/``_ci_high``) and their labels, over all worlds."""

REPORT_SUMMARY_COLUMNS: tuple[str, ...] = (
    *SUMMARY_COLUMNS,
    "seed",
    *(f"{key}{suffix}" for key, _ in HEADLINES for suffix in ("", "_ci_low", "_ci_high")),
)
NUMERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    SUMMARY: tuple(c for c in REPORT_SUMMARY_COLUMNS if c != "scenario"),
    SURVIVAL: SURVIVAL_COLUMNS,
    TRAJECTORIES: TRAJECTORY_COLUMNS,
}
"""Columns that must hold numbers, per file."""
COMPLETE_COLUMNS: dict[str, tuple[str, ...]] = {
    SUMMARY: ("scenario", "replications", "seed", "horizon_days", *(f"share_{cause}" for cause in CAUSES),
              *(f"{key}{suffix}" for key in ("p_agreed", "p_hold_horizon") for suffix in ("", "_ci_low", "_ci_high"))),
    SURVIVAL: ("day", "n_worlds", "n_agreed"),
}
"""Columns that must have no empty cell, per file."""
DRAWS_COLUMNS: tuple[str, ...] = ("draw", "particle", "worlds")
"""Columns ``draws.csv`` must have (with the posterior's parameters and per-draw figures beside them)."""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page's Content-Security-Policy: inline styles and data-URI images only, nothing fetched."""

STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.5rem; border-bottom: 2px solid #ddd; }
h3 { margin-top: 1.8rem; } .lead { color: #444; } .muted { color: #666; font-size: .9rem; }
.question { font-size: 1.1rem; border-left: 4px solid #3b6ea5; padding: .3rem .9rem; background: #f3f6fa; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .92rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #d4d4d4; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.override td { background: #fff4d6; } .tag { font-weight: 600; color: #8a5a00; }
figure { margin: 1rem 0 1.6rem; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
.scroll { overflow-x: auto; }
figcaption { color: #555; font-size: .9rem; } nav ul { columns: 2; } code { font-size: .9em; }
.validity { border-left: 4px solid #b36b00; padding: .3rem .9rem; background: #fff7ec; }
.validity.within { border-left-color: #3b7a3b; background: #f3f9f3; } .validity ul { margin: .3rem 0; }
"""


class Html(str):
    """A fragment of trusted, already-escaped HTML (everything else is escaped on output)."""


def esc(value: object) -> Html:
    """``value`` as HTML: trusted fragments unchanged, anything else escaped."""
    return value if isinstance(value, Html) else Html(html.escape(str(value)))


@dataclass(frozen=True)
class Cell:
    """A table cell with a CSS class (``num`` right-aligns figures)."""

    content: object
    css: str = ""


@dataclass(frozen=True)
class RunData:
    """What the report needs from one run folder, read and checked."""

    folder: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    survival: pd.DataFrame
    trajectories: pd.DataFrame | None
    draws: pd.DataFrame | None = None  # posterior runs: draws.csv (draw, particle, parameters, worlds, ...)

    @property
    def posterior(self) -> bool:
        """Whether the run drew its parameters from a posterior (``ceasefire run --posterior``): its
        intervals then hold parameter uncertainty as well as Monte Carlo noise."""
        return self.manifest.get("interval") == INTERVAL_KIND

    @property
    def drawn_from(self) -> dict[str, Any]:
        """The posterior of a run that drew its parameters from one (its manifest's ``posterior``), else {}."""
        found = self.manifest.get("posterior")
        return found if self.posterior and isinstance(found, dict) else {}

    @property
    def row(self) -> pd.Series:
        """The single row of ``summary.csv``."""
        return self.summary.iloc[0]

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario recorded in ``manifest.json``."""
        return self.manifest["scenario"]

    @property
    def validity(self) -> Validity:
        """What the empirical record covers of this run's headlines (``seeds/validity.yaml`` today, for its
        horizon and the structure in its manifest)."""
        return run_validity(int(self.row["horizon_days"]), structure_of(self.scenario))

    @property
    def validity_flags(self) -> tuple[str, ...]:
        """The flags ``summary.csv`` states (its ``validity`` column); a folder written before the column existed
        gets today's (:attr:`validity`)."""
        written = self.row.get("validity")
        return parse_validity(written) if isinstance(written, str) else self.validity.flags

    @property
    def validity_note(self) -> str:
        """The sentence ``summary.csv`` states beside its flags, else today's."""
        written = self.row.get("validity_note")
        return " ".join(written.split()) if isinstance(written, str) and written.strip() else self.validity.note


# --------------------------------------------------------------------------- a decide folder


def is_decide_folder(folder: Path) -> bool:
    """Whether ``folder`` was written by ``ceasefire decide`` (its manifest names the command)."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("command") == "decide"
    except (OSError, ValueError, AttributeError):
        return False


def decide_section(folder: Path) -> Html:
    """The "decide" section: the option each criterion picks per outcome, the regret of the picks, the PRIM
    boxes of each question and the factors most worth learning (EVPPI), with the three figures.

    Raises:
        InputError: a foreign or changed folder. PlotInputError: a table is missing or lacks columns.
    """
    from sim.outputs.ownership import check_output_folder
    from sim.outputs.plots import decide as plots

    check_output_folder(folder, "decide")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    picks = read_table(folder / "picks.csv", ("outcome", "criterion", "pick", "score", "disagree"))
    regret = read_table(folder / "regret.csv", ("outcome", "option", "expected_value", "expected_value_lo",
                                                "expected_value_hi", "max_regret", "p90_regret", "picked_by"))
    boxes = read_table(folder / "boxes.csv", ("question", "label", "box", "coverage", "density", "restricted"))
    evppi = read_table(folder / "evppi.csv", ("outcome", "factor", "group", "evppi", "share_of_evpi", "evpi"))
    pick_rows = [(row.outcome, row.criterion, row.pick, f"{row.score:.3f}",
                  "disagree" if str(row.disagree) == "True" else "agree") for row in picks.itertuples()]
    chosen = regret[regret["picked_by"].fillna("").astype(str) != ""]
    regret_rows = [(row.outcome, row.option, f"{row.expected_value:.3f} [{row.expected_value_lo:.3f}, "
                    f"{row.expected_value_hi:.3f}]", f"{row.p90_regret:.3f}", f"{row.max_regret:.3f}", row.picked_by)
                   for row in chosen.itertuples()]
    firsts = boxes.drop_duplicates(["question", "box"])
    box_rows = [(row.label, int(row.box), "" if pd.isna(row.coverage) else f"{row.coverage:.2f}",
                 "" if pd.isna(row.density) else f"{row.density:.2f}", row.restricted if isinstance(row.restricted, str)
                 else "") for row in firsts.itertuples()]
    top = evppi.groupby("outcome", sort=False).head(5)
    evppi_rows = [(row.outcome, row.factor, row.group, f"{row.evppi:.4f}", f"{row.share_of_evpi:.2f}",
                   f"{row.evpi:.4f}") for row in top.itertuples()]
    figures = [figure(png_data_uri(lambda path, name=name: _draw_decide(plots, folder, name, path)), alt, caption)
               for name, alt, caption in ((plots.REGRET_FIGURE, "regret heatmap", "Regret of every option"),
                                          (plots.BOXES_FIGURE, "PRIM boxes", "Where it fails: PRIM boxes"),
                                          (plots.EVPPI_FIGURE, "EVPPI bars", "What is worth learning: EVPPI"))]
    title = (f"Decide: {len(manifest.get('options', []))} options in {manifest.get('futures', '?')} futures "
             f"({manifest.get('parameter_source', '')})")
    return Html("\n".join([
        f'<section id="decide"><h2>{esc(title)}</h2>',
        table("The option each criterion picks, per outcome", ("outcome", "criterion", "pick", "score", "criteria"),
              pick_rows),
        table("The picked options: expected value with its bootstrap 95 % interval over futures, regrets",
              ("outcome", "option", "expected value", "p90 regret", "max regret", "picked by"), regret_rows),
        table("Scenario discovery (PRIM): the first box of each question", ("question", "box", "coverage", "density",
                                                                             "restricted"), box_rows),
        table("What is worth learning: the five largest EVPPI per outcome", ("outcome", "factor", "kind", "EVPPI",
                                                                              "share of EVPI", "EVPI"), evppi_rows),
        *figures, "</section>",
    ]))


def _draw_decide(plots: Any, folder: Path, name: str, path: Path) -> None:
    import shutil

    with tempfile.TemporaryDirectory(prefix="ceasefire-decide-") as scratch:
        for table_name in ("regret.csv", "boxes.csv", "peeling.csv", "evppi.csv"):
            if (folder / table_name).is_file():
                shutil.copyfile(folder / table_name, Path(scratch) / table_name)
        plots.draw(Path(scratch), (name,))
        shutil.copyfile(Path(scratch) / name, path)


# --------------------------------------------------------------------------- reading run folders


def load_run(folder: Path) -> RunData:
    """Read and check the manifest and tables of a run folder.

    Raises:
        InputError: the folder is missing or foreign, ``manifest.json`` is unreadable or malformed, or a
            table is not as ``ceasefire run`` wrote it (:func:`sim.outputs.run_folder.verified_run_folder`).
        PlotInputError: a CSV table is missing, unparsable, empty or lacks columns.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if not any((folder / name).exists() for name in (MANIFEST, SUMMARY, SURVIVAL)):
        raise InputError(
            f"{folder}: not a run folder written by `ceasefire run` (no {MANIFEST}, {SUMMARY} or {SURVIVAL})"
        )
    manifest = read_manifest(folder / MANIFEST)
    listed = verified_run_folder(folder, (SUMMARY, SURVIVAL, TRAJECTORIES, DRAWS))["files"]
    posterior = manifest.get("interval") == INTERVAL_KIND
    return RunData(
        folder=folder,
        manifest=manifest,
        summary=read_checked(folder / SUMMARY, REPORT_SUMMARY_COLUMNS),
        survival=read_checked(folder / SURVIVAL, SURVIVAL_COLUMNS),
        trajectories=read_checked(folder / TRAJECTORIES, TRAJECTORY_COLUMNS) if TRAJECTORIES in listed else None,
        draws=(read_table(folder / DRAWS, DRAWS_COLUMNS, numbers=DRAWS_COLUMNS)
               if posterior and DRAWS in listed else None),
    )


def read_checked(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """:func:`sim.outputs.plots.runs.read_table`, then check the file's numeric and complete columns."""
    table = read_table(path, required)
    for column in NUMERIC_COLUMNS.get(path.name, ()):
        if not pd.api.types.is_numeric_dtype(table[column]):
            values = table[column]
            bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
            line, value = (bad.index[0] + 2, bad.iloc[0]) if len(bad) else (2, values.iloc[0])
            raise InputError(f"{path}: column {column}: not a number on line {line}: {value!r}")
    for column in COMPLETE_COLUMNS.get(path.name, ()):
        if table[column].isna().any():
            raise InputError(f"{path}: column {column}: empty cell")
    return table


def read_manifest(path: Path) -> dict[str, Any]:
    """Read ``manifest.json`` and check the parts the report uses.

    Raises:
        InputError: naming the file and what is wrong with it.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    check_manifest(document, path)
    return document


def check_manifest(document: object, path: Path) -> None:
    """Raise InputError unless ``document`` has a scenario with a name, a text description and parameters."""
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(document).__name__}")
    scenario = document.get("scenario")
    if not isinstance(scenario, dict):
        raise InputError(f"{path}: scenario: missing or not an object (not a manifest written by `ceasefire run`)")
    if not isinstance(scenario.get("name"), str):
        raise InputError(f"{path}: scenario.name: missing or not text")
    if not isinstance(scenario.get("description", ""), str):
        raise InputError(f"{path}: scenario.description: not text")
    for section in ("agents", "model"):
        if not isinstance(scenario.get(section), dict):
            raise InputError(f"{path}: scenario.{section}: missing or not an object")
    for code, params in scenario["agents"].items():
        if not isinstance(params, dict):
            raise InputError(f"{path}: scenario.agents.{code}: not an object")


# --------------------------------------------------------------------------- formatting


def fmt_value(value: object) -> str:
    """A parameter value as a reader expects it: ``true``, ``10,000``, ``0.6``."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"
    return str(value)


def fmt_share(p: float, low: float, high: float, missing: str = "n/a") -> str:
    """A probability in percent with its 95 % interval: ``57.7 % [55.5–59.8]``; ``missing`` if undefined."""
    if pd.isna(p):
        return missing
    return f"{100 * p:.1f} % [{100 * low:.1f}–{100 * high:.1f}]"


def headline(row: pd.Series, key: str) -> str:
    """One summary probability, e.g. ``p_agreed``, with its interval (NaN only beyond the horizon)."""
    return fmt_share(row[key], row[f"{key}_ci_low"], row[f"{key}_ci_high"], "n/a (beyond horizon)")


def given_deal_at(survival: pd.DataFrame, day: int | None = None) -> str:
    """P(holding | deal) on ``day`` (default: the last day) from a survival table."""
    rows = survival if day is None else survival[survival["day"] == day]
    if rows.empty:
        return "n/a (beyond horizon)"
    last = rows.iloc[-1]
    return fmt_share(last["p_holding_given_deal"], last["ci_low_given_deal"], last["ci_high_given_deal"],
                     "n/a (no deal in any world)")


# --------------------------------------------------------------------------- HTML building blocks


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[object]],
          row_css: Iterable[str] | None = None) -> Html:
    """A table with a caption and a header row; cells are escaped unless trusted."""
    css = list(row_css) if row_css is not None else None
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(_cell(c) for c in row)
        cls = f' class="{esc(css[i])}"' if css and css[i] else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return Html(f'<div class="scroll"><table><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table></div>")


def _cell(cell: object) -> str:
    if isinstance(cell, Cell):
        cls = f' class="{esc(cell.css)}"' if cell.css else ""
        return f"<td{cls}>{esc(cell.content)}</td>"
    return f"<td>{esc(cell)}</td>"


def figure(data_uri: str, alt: str, caption: str) -> Html:
    """An embedded image with alt text and a caption."""
    return Html(f'<figure><img src="{esc(data_uri)}" alt="{esc(alt)}">'
                f"<figcaption>{esc(caption)}</figcaption></figure>")


def png_data_uri(draw: Callable[[Path], object]) -> str:
    """Let ``draw`` write a PNG (a run figure function) into a scratch file; return it as a data URI."""
    with tempfile.TemporaryDirectory(prefix="ceasefire-report-") as scratch:
        path = Path(scratch) / "figure.png"
        draw(path)
        data = path.read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Parameter:
    """One parameter of a run: its value and the commitments' default with provenance and evidence."""

    owner: str
    name: str
    value: object
    default: object
    provenance: str
    evidence: str

    @property
    def overridden(self) -> bool:
        """Whether the scenario changed this parameter from the commitments' default."""
        return self.value != self.default


def parameters(scenario: dict[str, Any]) -> list[Parameter]:
    """Every parameter of the commitments, with the value the run used (from its manifest)."""
    found = []
    for p in load_commitments().provenance_rows():
        section = scenario["model"] if p["owner"] == "model" else scenario["agents"].get(p["owner"], {})
        value = section.get(p["parameter"], p["value"])
        found.append(Parameter(p["owner"], p["parameter"], value, p["value"], p["provenance"], evidence_text(p)))
    return found


def parameter_table(params: Sequence[Parameter], drawn: dict[tuple[str, str], str] | None = None) -> Html:
    """Every parameter with the run's value and its provenance, or its mark as a scenario override; with
    ``drawn`` (a posterior run), the drawn parameters show the range of their draws instead of a value."""
    drawn = drawn or {}
    rows = []
    for p in params:
        if (p.owner, p.name) in drawn:
            rows.append((p.owner, Html(f"<code>{esc(p.name)}</code>"), Cell(drawn[(p.owner, p.name)], "num"),
                         Html('<span class="tag">posterior draws</span>'),
                         f"default {fmt_value(p.default)} ({p.provenance}): {p.evidence}"))
            continue
        if p.overridden:
            provenance: object = Html('<span class="tag">scenario override</span>')
            evidence = f"default {fmt_value(p.default)} ({p.provenance}): {p.evidence}"
        else:
            provenance, evidence = p.provenance, p.evidence
        rows.append((p.owner, Html(f"<code>{esc(p.name)}</code>"), Cell(fmt_value(p.value), "num"),
                     provenance, evidence))
    return table(
        f"Parameters of this run: the value it used (from its {MANIFEST}) and the provenance and evidence of the "
        f"default in {COMMITMENTS_FILE.name} as of this report. Highlighted: a value that differs from that "
        "default — a scenario override (or a default changed since the run).",
        ("owner", "parameter", "value", "provenance", "evidence"),
        rows, ["override" if p.overridden and (p.owner, p.name) not in drawn else "" for p in params],
    )


def settings_table(run: RunData) -> Html:
    """Key settings of a run: worlds, horizon, seed, source file, versions, command line."""
    m, row = run.manifest, run.row
    versions = m.get("versions")
    version_text = ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, dict) else "—"
    command = m.get("command_line")
    items = [
        ("run folder", str(run.folder)),
        ("scenario file", m.get("scenario_file") or "—"),
        ("worlds (replications)", fmt_value(row["replications"])),
        ("horizon", f"{fmt_value(row['horizon_days'])} days after the deal"),
        ("seed", str(int(row["seed"]))),
        ("median breakdown day (deals that broke)", _median_day(row)),
        ("git commit", m.get("git_commit") or "—"),
        ("versions", version_text),
        ("command line", " ".join(map(str, command)) if isinstance(command, list) else "—"),
    ]
    if run.posterior:
        items[3:3] = posterior_settings(run)
    return table("Key settings", ("setting", "value"), items)


def posterior_settings(run: RunData) -> list[tuple[str, str]]:
    """Settings rows of a run whose parameters came from a posterior: the file, the draws, the parameters."""
    drawn = run.drawn_from
    names = drawn.get("parameters")
    sha = drawn.get("sha256")
    return [
        ("parameters drawn from", f"{drawn.get('file') or '—'}"
                                  + (f" (SHA-256 {sha})" if isinstance(sha, str) and sha else "")),
        ("posterior draws", f"{_text(drawn.get('draws'))} draws of {_worlds_per_draw(drawn)} worlds each"),
        ("drawn parameters", ", ".join(map(str, names)) if isinstance(names, list) else "—"),
        ("intervals", "parameters + Monte Carlo: the spread of each probability across the posterior draws "
                      "and the noise of the finite worlds"),
    ]


def _worlds_per_draw(drawn: dict[str, Any]) -> str:
    """``20``, or ``20–21`` when the draws do not divide the worlds evenly."""
    worlds = drawn.get("worlds_per_draw")
    if not (isinstance(worlds, list) and len(worlds) == 2):
        return "—"
    fewest, most = (_text(w) for w in worlds)
    return fewest if fewest == most else f"{fewest}–{most}"


def _text(value: object) -> str:
    return fmt_value(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else "—"


def posterior_note(run: RunData) -> Html:
    """What the intervals of a posterior run hold, said before its figures."""
    drawn = run.drawn_from
    names = drawn.get("parameters")
    parameters = ", ".join(map(str, names)) if isinstance(names, list) else "the fitted parameters"
    return Html(
        f'<p class="question"><strong>Parameter uncertainty included.</strong> {esc(parameters)} were drawn from '
        f"the posterior {esc(drawn.get('file') or '')} ({esc(_text(drawn.get('draws')))} draws of "
        f"{esc(_worlds_per_draw(drawn))} worlds; world r ran draw r mod the number of draws). Every interval in "
        "this section holds the spread of the probability across those draws as well as Monte Carlo noise "
        f"(<code>interval = {esc(INTERVAL_KIND)}</code>), except where marked Monte Carlo only; the scenario's "
        "own values of the drawn parameters were not used.</p>")


def drawn_values(run: RunData) -> dict[tuple[str, str], str]:
    """(owner, parameter) -> the range of its posterior draws, for the parameter table of a posterior run."""
    names = run.drawn_from.get("parameters")
    if run.draws is None or not isinstance(names, list):
        return {}
    found = {}
    for name in names:
        parts = str(name).split(".")
        owner = "model" if parts[0] == "model" else parts[1] if len(parts) == 3 else None
        values = pd.to_numeric(run.draws.get(name, pd.Series(dtype=float)), errors="coerce").dropna()
        if owner is None or values.empty:
            continue
        found[(owner, parts[-1])] = (f"drawn: median {float(values.median()):.4g} "
                                     f"[{float(values.min()):.4g}–{float(values.max()):.4g}]")
    return found


def draws_table(run: RunData) -> Html:
    """One row per posterior draw: its particle, parameter values, worlds and headline figures."""
    assert run.draws is not None
    columns = [c for c in run.draws.columns if c != "seed"]
    rows = [tuple(Cell(_draw_cell(row[c]), "num") for c in columns) for _, row in run.draws.iterrows()]
    return table(f"The {len(rows)} posterior draws of this run ({DRAWS}): the particle each drew, its parameter "
                 "values, its worlds and its own figures (Monte Carlo only)", columns, rows)


def _draw_cell(value: object) -> str:
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value):
        return fmt_value(value) if float(value).is_integer() else f"{value:.4g}"
    return "—" if pd.isna(value) else str(value)


def _median_day(row: pd.Series) -> str:
    value = row.get("median_breakdown_day", float("nan"))
    return "— (none broke down)" if pd.isna(value) else fmt_value(value)


def validity_block(run: RunData) -> Html:
    """What the empirical record covers of the run's headlines, in plain words: the sentence of ``summary.csv``,
    one line per held-out test behind a structure flag, and the flags themselves."""
    flags = run.validity_flags
    validity = run.validity
    details = [text for entry, text in zip(validity.rejections, validity.details(), strict=True) if entry.flag in flags]
    items = "".join(f"<li>{esc(text)}</li>" for text in details)
    code = SEPARATOR.join(flags) or WITHIN
    return Html(f'<div class="validity{" within" if not flags else ""}"><p><strong>What the evidence covers: '
                f"{esc(in_words(flags))}.</strong> {esc(run.validity_note)} "
                f'<span class="muted">(<code>validity</code> in {SUMMARY}: <code>{esc(code)}</code>)</span></p>'
                + (f"<ul>{items}</ul>" if items else "") + "</div>")


def _flagged(run: RunData, key: str, label: str) -> str:
    """A headline's label, with the flag beside it when it reaches past what the record covers."""
    if key == "p_hold_horizon" and BEYOND in run.validity_flags:
        return f"{label} — beyond what the record covers ({run.validity.record_horizon_days:,} days)"
    return label


def headline_table(run: RunData) -> Html:
    """P(deal) and P(holding) at 90, 365 days and the horizon, over all worlds and given a deal; for a
    posterior run also the Monte-Carlo-only interval and the spread across the posterior. A headline beyond
    what the record covers says so beside its label."""
    horizon = int(run.row["horizon_days"])
    keys = [("p_agreed", "P(deal)", None), *HOLD_HEADLINES]
    if not run.posterior:
        rows = [("P(deal)", Cell(headline(run.row, "p_agreed"), "num"), Cell("—", "num"))]
        rows += [(_flagged(run, key, label), Cell(headline(run.row, key), "num"),
                  Cell(given_deal_at(run.survival, day), "num")) for key, label, day in HOLD_HEADLINES]
        return table(
            f"Headline probabilities, % with Wilson 95 % confidence interval (horizon {horizon} days)",
            ("quantity", "over all worlds (no deal = not holding)", "given a deal"),
            rows,
        )
    rows = [(_flagged(run, key, label), Cell(headline(run.row, key), "num"), Cell(_mc_only(run.row, key), "num"),
             Cell(_spread(run.row, key), "num"), Cell("—" if key == "p_agreed" else given_deal_at(run.survival, day),
                                                      "num"))
            for key, label, day in keys]
    return table(
        f"Headline probabilities, % with 95 % interval holding parameter uncertainty (posterior draws) and Monte "
        f"Carlo noise (horizon {horizon} days)",
        ("quantity", "over all worlds (no deal = not holding)", "Monte Carlo only (Wilson)",
         "spread across the posterior (sd, percentage points)", "given a deal"),
        rows,
    )


def _mc_only(row: pd.Series, key: str) -> str:
    low, high = row.get(f"{key}_mc_ci_low"), row.get(f"{key}_mc_ci_high")
    if low is None or high is None:
        return "—"
    return fmt_share(row[key], low, high, "n/a (beyond horizon)")


def _spread(row: pd.Series, key: str) -> str:
    sd = row.get(f"{key}_parameter_sd")
    return "—" if sd is None or pd.isna(sd) else f"{100 * float(sd):.1f}"


def causes_table(run: RunData) -> Html:
    """Share of worlds by outcome, with Wilson 95 % intervals."""
    row = run.row
    n = int(row["replications"])
    shares = [float(row[f"share_{cause}"]) for cause in CAUSES]
    low, high = wilson_interval([round(s * n) for s in shares], n)
    rows = [(CAUSE_LABELS.get(cause, cause), Cell(fmt_value(round(s * n)), "num"), Cell(fmt_share(s, lo, hi), "num"))
            for cause, s, lo, hi in zip(CAUSES, shares, low, high, strict=True)]
    note = ", Monte Carlo only" if run.posterior else ""
    return table(f"How the worlds ended by day {int(row['horizon_days'])} (N = {n:,}{note})",
                 ("outcome", "worlds", "share, % [95 % CI]"), rows)


def run_section(index: int, run: RunData, label: str) -> Html:
    """Everything about one run: question, settings, figures, parameters."""
    scenario, row = run.scenario, run.row
    params = parameters(scenario)
    drawn = drawn_values(run) if run.posterior else {}
    changed = [f"{p.owner}.{p.name} = {fmt_value(p.value)} (default {fmt_value(p.default)})"
               for p in params if p.overridden and (p.owner, p.name) not in drawn]
    bands = ("95 % bands holding parameter uncertainty and Monte Carlo noise" if run.posterior
             else "Wilson 95 % bands")
    change_text = "; ".join(changed) if changed else "none: every parameter is the commitments' default"
    parts = [
        f'<section id="run-{index}"><h2>{esc(label)}</h2>',
        f'<p class="question">{esc(" ".join(scenario.get("description", "").split()) or "(no description)")}</p>',
        f"<p><strong>Changes from the commitments:</strong> {esc(change_text)}</p>",
        *([posterior_note(run)] if run.posterior else []),
        settings_table(run),
        headline_table(run),
        validity_block(run),
        *([draws_table(run)] if run.draws is not None else []),
        figure(png_data_uri(lambda p: plot_survival(run.survival, label, p)),
               f"Survival curves of {label}: probability the ceasefire holds on each day, over all worlds and "
               f"given a deal, with 95 % bands; P(holding at the horizon) {headline(row, 'p_hold_horizon')}.",
               f"Probability the ceasefire holds, by day, with {bands}; dashed lines at 90 and 365 days."),
        "<h3>Causes of breakdown</h3>",
        causes_table(run),
        figure(png_data_uri(lambda p: plot_causes(run.summary, p)),
               f"Bar chart of how the worlds of {label} ended: no deal, major offensive, escalation spiral, "
               f"Ukrainian withdrawal or held, with 95 % error bars.",
               "Outcome by the horizon, share of worlds with Wilson 95 % error bars."),
        "<h3>Trajectories</h3>",
        _trajectories(run, label),
        "<h3>Agent parameters and their provenance</h3>",
        parameter_table(params, drawn),
        "</section>",
    ]
    return Html("\n".join(parts))


def _trajectories(run: RunData, label: str) -> Html:
    if run.trajectories is None:
        return Html(f'<p class="muted">No {TRAJECTORIES} in this run folder: trajectories were not recorded.</p>')
    return figure(
        png_data_uri(lambda p: plot_trajectories(run.trajectories, label, p)),
        f"Four panels for {label}: credibility of the guarantee, escalation, European troops in Ukraine and US "
        f"detection probability over time; mean and 10th-90th percentile band over worlds still holding.",
        "State of the ceasefire over time, over the worlds where it still holds: mean and 10th–90th percentile.",
    )


def comparison_section(runs: Sequence[RunData], labels: Sequence[str]) -> Html:
    """All runs side by side: headline probabilities with intervals, and overlaid survival curves."""
    marks = [" (posterior)" if run.posterior else "" for run in runs]
    headers = ("quantity", *(Html(f'<a href="#run-{i}">{esc(label)}</a>{esc(mark)}')
                             for i, (label, mark) in enumerate(zip(labels, marks, strict=True), 1)))
    rows: list[tuple[object, ...]] = [
        ("worlds", *(Cell(fmt_value(run.row["replications"]), "num") for run in runs)),
        ("horizon (days)", *(Cell(fmt_value(run.row["horizon_days"]), "num") for run in runs)),
        ("P(deal)", *(Cell(headline(run.row, "p_agreed"), "num") for run in runs)),
    ]
    for key, label, day in HOLD_HEADLINES:
        rows.append((label, *(Cell(headline(run.row, key), "num") for run in runs)))
        rows.append((f"{label[:-1]} | deal)", *(Cell(given_deal_at(run.survival, day), "num") for run in runs)))
    rows.append(("what the evidence covers", *(in_words(run.validity_flags) for run in runs)))
    pairs = [(label, run.survival) for run, label in zip(runs, labels, strict=True)]
    figures = [
        figure(png_data_uri(lambda p, g=given_deal: plot_compare(pairs, p, given_deal=g)),
               f"Overlaid survival curves of {', '.join(labels)} ({condition}), each with its 95 % band.",
               f"Probability the ceasefire holds, scenarios compared: {condition}.")
        for given_deal, condition in ((False, "all worlds, no deal counts as not holding"), (True, "given a deal"))
    ]
    return Html("\n".join([
        '<section id="comparison"><h2>Comparison of the runs</h2>',
        table("Headline probabilities of every run, % with Wilson 95 % confidence interval "
              "(over all worlds, no deal = not holding, unless “| deal”)"
              + ("; runs marked (posterior): 95 % interval holding parameter uncertainty and Monte Carlo noise"
                 if any(marks) else ""), headers, rows),
        *figures, "</section>",
    ]))


def document(runs: Sequence[RunData], labels: Sequence[str]) -> str:
    """The whole HTML page."""
    toc = "".join(f'<li><a href="#run-{i}">{esc(label)}</a></li>' for i, label in enumerate(labels, start=1))
    body = [run_section(i, run, label) for i, (run, label) in enumerate(zip(runs, labels, strict=True), start=1)]
    if len(runs) > 1:
        toc = '<li><a href="#comparison">Comparison of the runs</a></li>' + toc
        body.insert(0, comparison_section(runs, labels))
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Ceasefire scenarios: {esc(', '.join(labels))}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>Would the ceasefire hold? Scenario report</h1>",
        '<p class="lead">An agent-based simulation of a ceasefire in Ukraine guaranteed by European troops and '
        "monitored by the US. Each run answers one question under stated assumptions; every probability is a "
        "share of simulated worlds with its 95 % interval. A thinking tool, not a forecast.</p>",
        f"<nav><ul>{toc}</ul></nav></header>",
        *body,
        f'<footer class="muted"><p>Written by <code>ceasefire report</code> from {len(runs)} run folder(s); '
        "figures redrawn from their CSV tables.</p></footer>",
        "</body></html>",
    ]) + "\n"


# --------------------------------------------------------------------------- entry point


def build_report(run_dirs: Sequence[Path], out: Path) -> Path:
    """Write one self-contained HTML report of ``run_dirs`` to ``out``, atomically, with ceasefire's mark.

    Args:
        run_dirs: run folders written by ``ceasefire run`` (CSV tables and ``manifest.json``).
        out: HTML file to write; replaced only once the whole report is ready (its folder is created).

    Returns:
        ``out``.

    Raises:
        InputError: a folder is missing, foreign or changed since it was written, its manifest is bad, or
            ``out`` is a folder.
        PlotInputError: a CSV table is missing, unparsable, empty or lacks columns.
        OSError: ``out`` cannot be written (a full disk, a read-only folder); it is then unchanged.
    """
    if not run_dirs:
        raise InputError("report: no run folders given")
    out = Path(out)
    if out.is_dir():
        raise InputError(f"{out}: --out: is a folder, expected an HTML file name")
    decide_dirs = [Path(d) for d in run_dirs if is_decide_folder(Path(d))]
    runs = [load_run(Path(d)) for d in run_dirs if Path(d) not in decide_dirs]
    labels = unique_labels([str(run.row["scenario"]) for run in runs], [run.folder for run in runs])
    text = document(runs, labels)
    if decide_dirs:
        sections = "\n".join(decide_section(folder) for folder in decide_dirs)
        text = text.replace("<footer", sections + "\n<footer", 1)
    text = mark_html(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out
