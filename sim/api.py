"""The library's front door: run a scenario file and save its tables and plots.

The command line (``sim.cli.main``) is a thin layer over these functions; a notebook can call them directly::

    from sim import load_scenario, read_csv, run_scenario, save_run, variant
    result = run_scenario(load_scenario("baseline"))
    more = load_scenario("baseline", {"agents.UK.troops": 20000})  # named "baseline+agents.UK.troops=20000"
    save_run(result, "results/baseline")
    more = run_scenario(variant(result.scenario, {"agents.UK.troops": 20000}))  # "baseline-UK.troops-20000"
    runs = read_csv("results/baseline/runs.csv")  # dtypes as written (docs/COLUMNS.md)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Imported where used, so that ``ceasefire run`` (which needs only :func:`default_out_dir` from here) does not
# load Mesa's whole package, pandas and the scenario schema before it has checked its inputs.
if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.run import RunResult
    from sim.spec.scenario import Scenario


def default_out_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    """Where a run goes when no ``--out`` is given: ``results/<name>/``."""
    return root / scenario_name


def save_run(
    result: RunResult, out_dir: str | Path, command_line: Sequence[str] | None = None, plots: bool = True,
    source: str | Path | None = None,
) -> Path:
    """Write a run's CSV tables, manifest and plots into ``out_dir``, all or nothing.

    Args:
        result: what ``run_scenario`` returned.
        out_dir: destination folder; if it exists it is replaced as a whole, but only when it is empty or
            was written by ``ceasefire run`` and is unchanged since (see
            :func:`sim.outputs.ownership.check_output_folder`).
        command_line: recorded in the manifest.
        plots: also draw ``survival.png``, ``trajectories.png`` and ``causes.png``.
        source: the scenario file, recorded in the manifest.

    Raises:
        InputError: ``out_dir`` holds files ``ceasefire`` did not write, or is the current folder or above it.
        OSError: the disk is full or read-only; the previous folder is then left as it was.
    """
    from sim.outputs.artefacts import save

    return save(result.artefacts(source), out_dir, command_line=command_line, plots=plots)


# --------------------------------------------------------------------------- scenarios and variants

NAMING_PREFIXES = ("agents.", "model.", "structure.")
"""Overrides that change what a scenario is, and so its name; ``replications``, ``seed`` or ``horizon_days``
change how much of it is run, and leave the name."""


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None, *, name: str | None = None
                  ) -> Scenario:
    """Read, merge and validate a scenario file or bundled scenario, with values set by dotted path.

    Args:
        path: a scenario file, or a bundled scenario's name (``"baseline"``; ``ceasefire scenarios``).
        overrides: values by dotted path (``{"agents.UK.troops": 20000}``, ``{"replications": 500}``).
        name: the scenario's name; by default, with parameter or structure overrides, the file's name
            followed by each of them (:func:`override_name`: ``baseline+agents.UK.troops=20000``), so plots
            and tables tell runs apart; otherwise the file's own.

    Raises:
        InputError: one line; a misspelt or out-of-range override is named as such
            (``baseline: overrides: agents.UK.trops: unknown parameter (did you mean 'agents.UK.troops'?)``).
    """
    from sim.spec import scenario as _spec

    overrides = dict(overrides or {})
    if name is not None:
        overrides["name"] = name
    scenario = _spec.load_scenario(path, overrides)
    naming = {k: v for k, v in overrides.items() if str(k).startswith(NAMING_PREFIXES)}
    if "name" in overrides or not naming:
        return scenario
    return scenario.model_copy(update={"name": override_name(_spec.load_scenario(path).name, naming)})


def override_name(base: str, overrides: Mapping[str, Any]) -> str:
    """``base`` then ``+path=value`` for each override: ``baseline+agents.UK.troops=20000``.

    Characters a folder name should not hold become '_'; a name longer than ``MAX_NAME`` is cut and ends in
    a hash of the overrides, so different scenarios keep different names.
    """
    name = _UNSAFE_IN_OVERRIDE.sub("_", "+".join([base, *(f"{p}={_value_text(v)}" for p, v in overrides.items())]))
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(repr(sorted(overrides.items())).encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}-{digest}"


MAX_NAME = 80
"""Longest scenario name (``Scenario.name``)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_UNSAFE_IN_OVERRIDE = re.compile(r"[^A-Za-z0-9_.+=-]+")


def variant(scenario: str | Path | Scenario, overrides: Mapping[str, Any], name: str | None = None) -> Scenario:
    """A validated copy of ``scenario`` with values set by dotted path, named after them.

    Args:
        scenario: a ``Scenario``, a bundled scenario's name or a scenario file.
        overrides: values by dotted path, e.g. ``{"agents.UK.troops": 20000}``.
        name: the variant's name (letters, digits, '_', '-', '.'); by default :func:`variant_name`, so
            ``summary.csv``, plots and folders tell variants apart.

    Raises:
        InputError: an unknown path (with the closest valid one) or an out-of-range value.
    """
    from sim.engine.mesa_model import resolve_scenario, with_overrides
    from sim.spec.scenario import Scenario

    base = resolve_scenario(scenario)
    overrides = dict(overrides)
    if name is None and "name" not in overrides:
        name = variant_name(base.name, overrides)
    if name is not None:
        overrides["name"] = name
    return with_overrides(base, overrides, source=Path(str(scenario) if not isinstance(scenario, Scenario)
                                                       else base.name))


def variant_name(base: str, overrides: Mapping[str, Any]) -> str:
    """``base`` followed by each override as ``-path-value``, the ``agents.``/``model.`` prefix dropped.

    ``variant_name("baseline", {"agents.UK.troops": 20000})`` is ``"baseline-UK.troops-20000"``. Characters
    a folder name should not hold become '_'; a name longer than ``MAX_NAME`` is cut and ends in a hash of
    the overrides, so different variants keep different names.
    """
    parts = [base]
    for path, value in overrides.items():
        short = path.removeprefix("agents.").removeprefix("model.")
        parts += [short, _value_text(value)]
    name = _UNSAFE.sub("_", "-".join(parts))
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(repr(sorted(overrides.items())).encode()).hexdigest()[:8]
    return f"{name[:MAX_NAME - 9]}-{digest}"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --------------------------------------------------------------------------- reading tables back

TEXT_COLUMNS = frozenset({"scenario", "cause", "quartile", "validity", "validity_note"})
BOOL_COLUMNS = frozenset({"agreed", "germany_deployed", "monitoring_scaled_down"})
OPTIONAL_INT_COLUMNS = frozenset({"breakdown_day"})
"""Whole numbers with empty cells (a world that held has no breakdown day): pandas' nullable ``Int64``."""
INT_COLUMNS = frozenset({
    "replication", "day", "point", "n_worlds", "n_agreed", "n_holding", "replications", "seed", "horizon_days",
    "incidents", "detected_violations", "probes", "detected_probes", "responses", "retaliations",
    "sanctions_imposed", "spoiler_events",
})
FLOAT_COLUMN = re.compile(r"^(p_|share_|ci_|final_|intent|median_)|_(mean|p10|p90)$")
"""Every other column ``ceasefire`` writes is a float; a float written as ``0`` would otherwise read as int."""


def column_dtype(column: str) -> str | None:
    """The dtype of a column of the CSVs ``ceasefire`` writes, or None for a column it does not know."""
    for names, dtype in ((TEXT_COLUMNS, "str"), (BOOL_COLUMNS, "bool"), (OPTIONAL_INT_COLUMNS, "Int64"),
                         (INT_COLUMNS, "int64")):
        if column in names:
            return dtype
    return "float64" if FLOAT_COLUMN.search(column) else None


def read_csv(path: str | Path, **options: Any) -> pd.DataFrame:
    """Read a CSV ``ceasefire`` wrote (runs, survival, summary, trajectories, intent, sweep) with its dtypes.

    ``pandas.read_csv`` alone reads ``breakdown_day`` as float (it has empty cells) and a float column
    whose every value is whole (``share_ukrainian_withdrawal`` = 0) as int; this gives back what was
    written. A sweep's axis columns (between ``point`` and ``horizon_days``) are floats. ``options`` go to
    ``pandas.read_csv``.
    """
    import pandas as pd

    header = list(pd.read_csv(path, nrows=0).columns)
    dtypes = {c: d for c in header if (d := column_dtype(c)) is not None}
    if "point" in header and "horizon_days" in header:  # sweep.csv: its axes hold numbers (sweep.design.parse_values)
        dtypes.update(dict.fromkeys(header[header.index("point") + 1: header.index("horizon_days")], "float64"))
    return pd.read_csv(path, dtype={**dtypes, **options.pop("dtype", {})}, **options)
