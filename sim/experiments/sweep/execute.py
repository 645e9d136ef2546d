"""Running a sweep: points farmed out to local processes or a Dask cluster, streamed to disk, resumable.

Each point is the base scenario with its axis values applied. Its worlds are replications
``0 .. replications - 1``, each with its own random streams (``sim.engine.streams``): by default the same
streams at every point (**common random numbers**: neighbouring points differ only through their
parameters, not through luck), or, with ``common_random_numbers`` off, streams of the point's own
(stream key ``(p,)``). Points are run packed, many to a batch (``sim.engine.packing``); a world's result does
not depend on its batch, so every number is the same whatever the packing, the number of workers,
the executor or the order in which points finish.

While a sweep runs, each finished point is appended as one JSON line to ``points.jsonl`` in
``<out>.partial/`` and flushed to disk, so memory stays flat and an interruption (Ctrl-C,
SIGTERM, a killed worker) loses only the points in flight. ``--resume`` continues from there,
provided the sweep's hash (``sweep.json``) is unchanged. The final tables, manifest and plots
are written into ``<out>/`` all at once (:func:`sim.outputs.artefacts.atomic_folder`), then the partial folder
is removed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.engine.packing import PACK_WORLDS, plan_packs, run_packed
from sim.engine.resources import check_memory, point_memory_bytes
from sim.engine.runner import local_executor
from sim.experiments.sweep.design import METRIC_COLUMNS, POSTERIOR_COLUMNS, SOBOL_OUTPUTS, Sweep, sweep_sobol_table
from sim.outputs.artefacts import (
    CSV_OPTIONS,
    atomic_folder,
    check_writable,
    git_commit,
    versions,
    write_csv,
    write_json,
)
from sim.spec.scenario import Scenario
from sim.stats.metrics import CAUSES, HOLD_DAYS, holding_counts, summary_row, wilson_interval

PARTIAL_SUFFIX = ".partial"
"""The folder of completed points is ``<out>.partial`` beside the output folder."""

RECORDS_FILE = "points.jsonl"
DEFINITION_FILE = "sweep.json"
SURVIVAL_COLUMNS: tuple[str, ...] = ("point", "day", "n_holding", "p_holding", "ci_low", "ci_high")
"""Columns of ``survival.csv`` (long form: one row per point and day)."""

SURVIVAL_BATCH = 64
"""Points per write of ``survival.csv`` (bounds memory while assembling it)."""

WINDOW_PER_SLOT = 2
"""Points submitted ahead per worker slot: keeps workers busy, keeps memory flat."""

OWN_FILES = frozenset({RECORDS_FILE, DEFINITION_FILE})
"""The only files a partial folder holds; ``--restart`` deletes a folder holding nothing else."""

TOLERANCE = 1e-9
"""Slack when a saved record's figures are checked against each other (they agree to rounding)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a sweep; ``str(self)`` says what is saved and how to resume."""


class SweepAborted(RuntimeError):
    """A point failed or a worker died; completed points are saved for ``--resume``."""


class Progress(Protocol):
    """Receives progress: ``start`` once, then ``advance`` per finished point."""

    def start(self, total: int, done: int) -> None: ...

    def advance(self, worlds: int) -> None: ...


class _NoProgress:
    def start(self, total: int, done: int) -> None:
        return None

    def advance(self, worlds: int) -> None:
        return None


@dataclass(frozen=True)
class SweepOutcome:
    """What a finished sweep did (also recorded in ``manifest.json``)."""

    out_dir: Path
    n_points: int
    points_run: int
    points_resumed: int
    wall_seconds: float
    workers: int
    executor: str


# --------------------------------------------------------------------------- one point (runs on workers)


def point_stream(index: int, common_random_numbers: bool = True) -> tuple[int, ...]:
    """The stream key of the worlds of point ``index``: ``()`` (the streams of ``ceasefire run``) with
    common random numbers, else ``(index,)``."""
    return () if common_random_numbers else (index,)


WorldDraws = tuple[dict[str, np.ndarray], np.ndarray]
"""Posterior draws per world (:meth:`~sim.experiments.sweep.design.Sweep.world_draws`)
   : path -> values, and each world's draw."""


def run_points(points: Sequence[tuple[int, Scenario]], common_random_numbers: bool = True,
               draws: WorldDraws | None = None) -> list[dict[str, Any]]:
    """Simulate the worlds of several points, packed (``sim.engine.packing``), and reduce each to its record.

    Args:
        draws: with a posterior, the per-world parameter values (the same at every point) and the draw
            of each world; the records' intervals then hold parameter uncertainty too.

    Returns:
        one ``{"point": index, "summary": {metric column: value}, "n_holding": [worlds holding on day
        0..horizon]}`` per point, in the order given; with ``draws``, also ``"posterior": {column of
        :data:`sim.experiments.sweep.design.POSTERIOR_COLUMNS`: value}``.
    """
    indices = [index for index, _ in points]
    scenarios = [scenario for _, scenario in points]
    values, draw_of_world = draws if draws is not None else (None, None)
    parts = run_packed(scenarios, [point_stream(index, common_random_numbers) for index in indices],
                       world_values=[values] * len(scenarios))
    return [point_record(index, scenario, runs, draw_of_world)
            for index, scenario, runs in zip(indices, scenarios, parts, strict=True)]


def run_point(scenario: Scenario, index: int, common_random_numbers: bool = True,
              draws: WorldDraws | None = None) -> dict[str, Any]:
    """The record of point ``index`` alone (see :func:`run_points`)."""
    return run_points([(index, scenario)], common_random_numbers, draws)[0]


def point_record(index: int, scenario: Scenario, runs: pd.DataFrame,
                 draw_of_world: np.ndarray | None = None) -> dict[str, Any]:
    """A point's ``runs`` reduced to its ``sweep.csv`` row and daily counts of worlds holding.

    With ``draw_of_world`` (the posterior draw of each replication), the ``*_ci_*`` figures of the
    :data:`~sim.experiments.sweep.design.SOBOL_OUTPUTS`
    are :func:`sim.stats.posterior.pooled_interval` (parameters and Monte
    Carlo), and ``"posterior"`` holds each one's parameter spread and Monte-Carlo-only interval.
    """
    row = summary_row(runs, scenario.horizon_days, scenario.name, scenario.seed)
    n_holding, _ = holding_counts(runs, scenario.horizon_days)
    summary = {key: _plain(row[key]) for key in METRIC_COLUMNS}
    record: dict[str, Any] = {"point": index, "summary": summary, "n_holding": n_holding.tolist()}
    if draw_of_world is not None:
        record["posterior"] = _pool_by_draw(runs, scenario.horizon_days, draw_of_world, summary)
    return record


def _pool_by_draw(runs: pd.DataFrame, horizon_days: int, draw_of_world: np.ndarray,
                  summary: dict[str, Any]) -> dict[str, float]:
    """Replace ``summary``'s intervals by pooled ones; return the spread and Monte Carlo intervals."""
    from sim.stats.posterior import pooled_from_worlds

    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    ended = np.where(np.isnan(breakdown), np.inf, breakdown)  # holding on day d: agreed, not broken by d
    days = {"p_agreed": None, "p_hold_90": 90, "p_hold_365": 365, "p_hold_horizon": horizon_days}
    defined = [name for name in SOBOL_OUTPUTS if days[name] is None or days[name] <= horizon_days]
    outcomes = np.vstack([agreed if days[name] is None else agreed & (ended > days[name]) for name in defined])
    draw = np.asarray(draw_of_world)[runs["replication"].to_numpy()]
    _, low, high, sd = pooled_from_worlds(outcomes, draw, draws=int(np.max(draw_of_world)) + 1)
    extra = {column: float("nan") for column in POSTERIOR_COLUMNS}
    for i, name in enumerate(defined):
        extra[f"{name}_mc_ci_low"], extra[f"{name}_mc_ci_high"] = summary[f"{name}_ci_low"], summary[f"{name}_ci_high"]
        extra[f"{name}_parameter_sd"] = float(sd[i])
        summary[f"{name}_ci_low"], summary[f"{name}_ci_high"] = float(low[i]), float(high[i])
    return extra


def _plain(value: Any) -> int | float:
    """A numpy or Python number as a plain int or float (JSON keeps floats exactly)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return float(value)


# --------------------------------------------------------------------------- the partial folder


def partial_dir(out_dir: Path) -> Path:
    """Where completed points of ``out_dir``'s sweep are kept until the sweep finishes."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + PARTIAL_SUFFIX)


class RecordStore:
    """Append-only, flushed per-point records in a partial folder, locked against a second writer.

    Use :meth:`open`; ``done`` holds the indices of points already on disk; ``created`` says whether
    this session created the folder.
    """

    def __init__(self, folder: Path, sweep: Sweep, created: bool = False) -> None:
        self.folder = folder
        self.sweep = sweep
        self.created = created
        self.path = folder / RECORDS_FILE
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
            raise InputError(f"{self.path}: not a regular file, so not the saved points of a sweep; "
                             "move it away or choose another --out")
        self._file = open(self.path, "a+b")  # noqa: SIM115 - closed by close()
        _lock(self._file, folder)
        self.offsets = self._scan()
        self.done = set(self.offsets)

    @classmethod
    def open(cls, folder: Path, sweep: Sweep, resume: bool, restart: bool) -> RecordStore:
        """Open (or create) the partial folder of ``sweep``.

        Raises:
            InputError: earlier points exist but neither ``resume`` nor ``restart`` is given, or
                ``resume`` is given and the sweep's hash changed.
        """
        digest = sweep.digest()
        _check_partial_folder(folder)
        if folder.exists() and restart:
            _check_own_folder(folder)
            with open(folder / RECORDS_FILE, "a+b") as handle:
                _lock(handle, folder)  # refuse to discard the points of a sweep that is still running
            shutil.rmtree(folder)
        if folder.exists():
            saved = _saved_hash(folder)
            if not resume:
                count = _count_lines(folder / RECORDS_FILE)
                raise InputError(f"{folder}: an interrupted sweep is saved here ({count} of {sweep.n_points} points "
                                 "done); add --resume to continue it or --restart to discard it")
            if saved != digest:
                raise InputError(f"{folder}: --resume: the sweep has changed since these points were computed "
                                 f"(hash {saved[:12]} now {digest[:12]}); use --restart to discard them")
            return cls(folder, sweep)
        folder.mkdir(parents=True)
        write_json({"sweep_hash": digest, "name": sweep.name, "sweep": sweep.definition()}, folder / DEFINITION_FILE)
        return cls(folder, sweep, created=True)

    def _scan(self) -> dict[int, int]:
        """Byte offset of each point's record, every record checked; drops a torn last line (killed mid-write).

        Raises:
            InputError: a line is not a valid record (not UTF-8 JSON, keys missing, values of the wrong
                type or out of range, a point saved twice with different figures); names the line.
        """
        offsets: dict[int, int] = {}
        limit = max_record_bytes(self.sweep.base.horizon_days)
        self._file.seek(0)
        position = 0
        for number, line in enumerate(iter(lambda: self._file.readline(limit), b""), start=1):
            if not line.endswith(b"\n"):
                if len(line) >= limit:
                    self._damaged(number, f"longer than any record ({limit:,} bytes)")
                self._file.truncate(position)
                break
            point = self._check(_parse(line), number)
            if point in offsets:
                self._check_duplicate(point, line, offsets[point], number)
            offsets.setdefault(point, position)
            position += len(line)
        self._file.seek(0, os.SEEK_END)
        return offsets

    def _check(self, record: Any, number: int) -> int:
        """The point of a record, after checking every field against the sweep (see :func:`record_problem`)."""
        base = self.sweep.base
        problem = record_problem(record, self.sweep.n_points, base.replications, base.horizon_days,
                                 posterior=self.sweep.posterior is not None)
        if problem:
            self._damaged(number, problem)
        return int(record["point"])

    def _check_duplicate(self, point: int, line: bytes, first: int, number: int) -> None:
        """A point saved twice must be saved with the same figures (a resumed point finished twice)."""
        with open(self.path, "rb") as handle:
            handle.seek(first)
            if json.loads(handle.readline()) != json.loads(line):
                self._damaged(number, f"point {point} was saved before with different figures")

    def _damaged(self, number: int, problem: str) -> None:
        raise InputError(f"{self.path}: line {number}: {problem}; delete the line or use --restart")

    def append(self, record: dict[str, Any]) -> None:
        """Write one point's record and force it to disk."""
        line = json.dumps(record, separators=(",", ":")) + "\n"
        position = self._file.seek(0, os.SEEK_END)
        self._file.write(line.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.offsets.setdefault(int(record["point"]), position)
        self.done.add(int(record["point"]))

    def read(self, point: int) -> dict[str, Any]:
        """The record of one point, read back from disk."""
        self._file.seek(self.offsets[point])
        return json.loads(self._file.readline())

    def close(self) -> None:
        """Release the lock and the file."""
        self._file.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock(handle: Any, folder: Path) -> None:
    """An exclusive advisory lock, so two sweeps never append to the same records."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise InputError(f"{folder}: another sweep is writing here; wait for it or choose another --out") from None


def _check_partial_folder(folder: Path) -> None:
    """A partial folder is absent or a real folder (not a file, not a link)."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{folder}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(mode):
        raise InputError(f"{folder}: exists and is not a folder (a sweep keeps its unfinished points there); "
                         "move it away or choose another --out")


def _check_own_folder(folder: Path) -> None:
    """``--restart`` deletes a partial folder only if it holds nothing but a sweep's own files."""
    foreign = sorted(entry.name for entry in folder.iterdir() if entry.name not in OWN_FILES)
    if foreign:
        raise InputError(f"{folder}: holds files a sweep did not write ({', '.join(foreign[:3])[:120]}), so "
                         "--restart will not delete it; move them away or choose another --out")


def max_record_bytes(horizon_days: int) -> int:
    """The longest line a record of a sweep over ``horizon_days`` days can have (bytes, with slack)."""
    return 8192 + 12 * (horizon_days + 1)


def _parse(line: bytes) -> Any:
    """A JSON line as data, or None if it is not UTF-8 JSON."""
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def record_problem(record: Any, n_points: int, replications: int, horizon_days: int,
                   posterior: bool = False) -> str | None:
    """What is wrong with one saved record of ``points.jsonl``, or None if it can be trusted.

    A record is ``{"point": p, "summary": {...}, "n_holding": [...]}`` as written by :func:`run_point`:
    ``0 <= p < n_points``; ``summary`` holds exactly
    :data:`sim.experiments.sweep.design.METRIC_COLUMNS`, with the sweep's
    ``replications`` and ``horizon_days``, probabilities and shares in [0, 1] inside their intervals;
    ``n_holding`` is ``horizon_days + 1`` counts in [0, replications], never increasing, that agree
    with the summary's P(holding). With ``posterior`` (a sweep with ``--posterior``), ``posterior`` holds
    exactly :data:`sim.experiments.sweep.design.POSTERIOR_COLUMNS` (:func:`_posterior_problem`); without, it is absent.
    """
    if not isinstance(record, dict):
        return "not a JSON record (damaged or not UTF-8)"
    missing = [key for key in ("point", "summary", "n_holding") if key not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    point = record["point"]
    if type(point) is not int or not 0 <= point < n_points:
        return f"point: must be a whole number in [0, {n_points - 1}] (got {_shown(point)})"
    n_holding = record["n_holding"]
    problem = _counts_problem(n_holding, replications, horizon_days)
    if problem:
        return problem
    return (_summary_problem(record["summary"], n_holding, replications, horizon_days)
            or _posterior_problem(record, posterior))


def _posterior_problem(record: dict[str, Any], posterior: bool) -> str | None:
    """A posterior sweep's record: each defined probability's parameter sd in [0, 0.5] (the largest spread
    a proportion can have) and its Monte Carlo interval in [0, 1] around it; all NaN where undefined."""
    if not posterior:
        return "posterior: this sweep draws no parameters from a posterior" if "posterior" in record else None
    extra, summary = record.get("posterior"), record["summary"]
    if not isinstance(extra, dict) or set(extra) != set(POSTERIOR_COLUMNS):
        return "posterior: must hold the parameter spread and Monte Carlo interval of each probability"
    for name in SOBOL_OUTPUTS:
        sd, low, high = (extra[f"{name}{suffix}"] for suffix in ("_parameter_sd", "_mc_ci_low", "_mc_ci_high"))
        if any(type(v) not in (int, float) for v in (sd, low, high)):
            return f"posterior.{name}: must be numbers"
        if math.isnan(summary[name]):
            if not all(math.isnan(v) for v in (sd, low, high)):
                return f"posterior.{name}: must be empty (the day is past the horizon)"
            continue
        if not (0.0 <= sd <= 0.5 and 0.0 <= low <= summary[name] + TOLERANCE and
                summary[name] - TOLERANCE <= high <= 1.0):
            return f"posterior.{name}: spread or Monte Carlo interval out of range (got {_shown(sd)})"
    return None


def _shown(value: Any) -> str:
    """A value for a message, cut short (a damaged file may hold anything)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _counts_problem(n_holding: Any, replications: int, horizon_days: int) -> str | None:
    if not isinstance(n_holding, list) or len(n_holding) != horizon_days + 1:
        return f"n_holding: must be a list of {horizon_days + 1} counts (days 0..{horizon_days})"
    if set(map(type, n_holding)) != {int}:
        return "n_holding: must hold whole numbers only"
    if min(n_holding) < 0 or max(n_holding) > replications:
        return f"n_holding: counts must be in [0, {replications}] (the worlds of a point)"
    if any(later > earlier for earlier, later in zip(n_holding, n_holding[1:], strict=False)):
        return "n_holding: must never increase from one day to the next"
    return None


def _summary_problem(summary: Any, n_holding: list[int], replications: int, horizon_days: int) -> str | None:
    if not isinstance(summary, dict):
        return "summary: must be a record of the sweep.csv figures"
    missing = [key for key in METRIC_COLUMNS if key not in summary]
    extra = [key for key in summary if key not in METRIC_COLUMNS]
    if missing or extra:
        return f"summary: {'missing ' + ', '.join(missing) if missing else 'unknown ' + ', '.join(extra)}"[:160]
    for key, expected in (("replications", replications), ("horizon_days", horizon_days)):
        if type(summary[key]) is not int or summary[key] != expected:
            return f"summary.{key}: must be {expected}, the sweep's (got {_shown(summary[key])})"
    for key in METRIC_COLUMNS[2:]:
        if type(summary[key]) not in (int, float):
            return f"summary.{key}: must be a number (got {_shown(summary[key])})"
    expected_p = {f"p_hold_{day}": n_holding[day] / replications for day in HOLD_DAYS if day <= horizon_days}
    expected_p["p_hold_horizon"] = n_holding[horizon_days] / replications
    expected_p["share_held"] = n_holding[horizon_days] / replications
    for key in ("p_agreed", *(f"p_hold_{day}" for day in HOLD_DAYS), "p_hold_horizon"):
        problem = _proportion_problem(summary, key, key in expected_p or key == "p_agreed")
        if problem:
            return problem
    shares = [summary[f"share_{cause}"] for cause in CAUSES]
    if not all(0.0 <= share <= 1.0 for share in shares) or abs(sum(shares) - 1.0) > TOLERANCE:
        return "summary: share_*: must be in [0, 1] and add up to 1"
    expected_p["share_no_deal"] = 1.0 - summary["p_agreed"]
    for key, value in expected_p.items():
        if abs(summary[key] - value) > TOLERANCE:
            return f"summary.{key}: {_shown(summary[key])} disagrees with the saved counts ({value:.6g})"
    median = summary["median_breakdown_day"]
    if not (math.isnan(median) or 0 <= median <= horizon_days):
        return f"summary.median_breakdown_day: must be empty or in [0, {horizon_days}] (got {_shown(median)})"
    return None


def _proportion_problem(summary: dict[str, Any], key: str, defined: bool) -> str | None:
    """A proportion and its interval: in [0, 1], low <= p <= high; all NaN where undefined (day > horizon)."""
    values = [summary[key], summary[f"{key}_ci_low"], summary[f"{key}_ci_high"]]
    if not defined:
        if all(math.isnan(v) for v in values):
            return None
        return f"summary.{key}: must be empty (the day is past the horizon)"
    p, low, high = values
    if not all(0.0 <= v <= 1.0 for v in values):  # NaN fails too
        return f"summary.{key}: must be a probability in [0, 1] with its interval (got {_shown(p)})"
    if not low - TOLERANCE <= p <= high + TOLERANCE:
        return f"summary.{key}: must lie within its interval [{key}_ci_low, {key}_ci_high]"
    return None


def _saved_hash(folder: Path) -> str:
    try:
        return str(json.loads((folder / DEFINITION_FILE).read_text(encoding="utf-8"))["sweep_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{folder}: not the partial results of a sweep ({DEFINITION_FILE} missing or damaged); "
                         "delete it or use --restart") from None


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.endswith(b"\n"))


# --------------------------------------------------------------------------- executors


@contextlib.contextmanager
def open_executor(workers: int, scheduler: str | None) -> Iterator[tuple[Executor | None, int, str]]:
    """Yield (executor or None for in-process, worker slots, description).

    Args:
        workers: local processes (>= 1); 1 runs points in this process.
        scheduler: address of a Dask distributed scheduler (e.g. ``tcp://host:8786``); overrides ``workers``.
    """
    if scheduler:
        client = _dask_client(scheduler)
        executor = client.get_executor(pure=False)
        try:
            yield executor, max(1, sum(client.nthreads().values())), f"dask {scheduler}"
        finally:
            executor.shutdown(wait=False)
            client.close()
    elif workers <= 1:
        yield None, 1, "1 process (in-process)"
    else:
        executor = local_executor(workers)
        try:
            yield executor, workers, f"{workers} local processes"
        except BaseException:
            _stop_local(executor)
            raise
        executor.shutdown(wait=True)


def _dask_client(address: str) -> Any:
    """A ``distributed.Client`` connected to ``address`` with at least one worker (imported only here)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler: needs the 'distributed' package (pip install 'ceasefire[dask]')") from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a malformed address
        raise InputError(f"--scheduler: cannot connect to {address} ({exc})") from None
    try:
        client.wait_for_workers(1, timeout=60)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(f"--scheduler: {address} has no workers (waited 60 s)") from None
    return client


def _stop_local(executor: Executor) -> None:
    """Cancel queued points and end the pool's worker processes now (their points are lost)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def completed_points(sweep: Sweep, todo: Iterable[int], executor: Executor | None, slots: int
                     ) -> Iterator[dict[str, Any]]:
    """Run the points ``todo``, packed, and yield their records as they finish (in any order).

    At most ``WINDOW_PER_SLOT × slots`` packs are in flight, so memory does not grow with the sweep.
    Packs hold at most ``PACK_WORLDS`` worlds, fewer when that keeps every worker busy.

    Raises:
        SweepAborted: a worker died or a point failed.
    """
    todo = list(todo)
    scenarios = [sweep.scenario_at(index) for index in todo]
    total = sum(scenario.replications for scenario in scenarios)
    pack_worlds = max(1, min(PACK_WORLDS, math.ceil(total / (WINDOW_PER_SLOT * slots))))
    packs = iter([[(todo[i], scenarios[i]) for i in pack] for pack in plan_packs(scenarios, pack_worlds)])
    crn = sweep.common_random_numbers
    draws = sweep.world_draws()
    if executor is None:
        for pack in packs:
            yield from run_points(pack, crn, draws)
        return
    pending: dict[Future, int] = {}
    try:
        while True:
            while len(pending) < WINDOW_PER_SLOT * slots and (pack := next(packs, None)) is not None:
                pending[executor.submit(run_points, pack, crn, draws)] = pack[0][0]
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                yield from _result(future, index)
    finally:
        for future in pending:
            future.cancel()


def _result(future: Future, index: int) -> list[dict[str, Any]]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise SweepAborted(f"point {index}: a worker process died") from None
    except (InputError, KeyboardInterrupt):
        raise
    except Exception as exc:
        reason = "a worker died" if type(exc).__name__ == "KilledWorker" else f"{type(exc).__name__}: {exc}"
        raise SweepAborted(f"point {index}: {reason}") from exc


# --------------------------------------------------------------------------- the whole sweep


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    restart: bool = False,
    progress: Progress | None = None,
    plots: bool = True,
    command_line: list[str] | None = None,
) -> SweepOutcome:
    """Run every point not yet on disk, then write ``sweep.csv``, ``survival.csv``, ``manifest.json``, plots.

    Args:
        sweep: the resolved sweep.
        out_dir: output folder; completed points are kept in ``<out_dir>.partial`` meanwhile.
        workers: local processes (>= 1; 1 runs in this process); ignored with ``scheduler``.
        scheduler: Dask scheduler address; runs the points on that cluster.
        resume: continue from the points in ``<out_dir>.partial`` (same sweep hash only).
        restart: discard the points in ``<out_dir>.partial`` first.
        progress: receives ``start(total, done)`` and ``advance(worlds)`` per point.
        plots: also draw the figures.
        command_line: recorded in the manifest.

    Raises:
        InputError: bad folder or a resume that does not match.
        SweepInterrupted: Ctrl-C or SIGTERM (completed points are saved).
        SweepAborted: a worker died or a point failed (completed points are saved).
    """
    out_dir = Path(out_dir)
    if workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {workers})")
    slots = 1 if scheduler else min(workers, sweep.n_points)  # a cluster's memory is its own
    check_memory(point_memory_bytes(sweep.base.replications, slots),
                 f"--replications {sweep.base.replications} x --workers {slots}", "--replications or --workers")
    check_writable(out_dir)
    progress = progress or _NoProgress()
    start = time.perf_counter()
    folder = partial_dir(out_dir)
    store: RecordStore | None = None
    try:
        with open_executor(min(workers, sweep.n_points), scheduler) as (executor, slots, label), \
                RecordStore.open(folder, sweep, resume, restart) as store:
            resumed = len(store.done)
            progress.start(sweep.n_points, resumed)
            todo = [i for i in range(sweep.n_points) if i not in store.done]
            _run_points(sweep, store, todo, executor, slots, progress)
            outcome = SweepOutcome(out_dir, sweep.n_points, len(todo), resumed, time.perf_counter() - start,
                                   slots if todo else 0, label if todo else "none (every point was already saved)")
            write_outputs(sweep, store, out_dir, sweep_manifest(sweep, outcome, command_line), plots)
    except BaseException as exc:
        if store is not None and store.created and not store.done:
            shutil.rmtree(folder, ignore_errors=True)  # nothing to resume: leave no trace
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, SweepInterrupted):
            raise SweepInterrupted(_saved_message(store)) from None
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return outcome


def _run_points(sweep: Sweep, store: RecordStore, todo: list[int], executor: Executor | None, slots: int,
                progress: Progress) -> None:
    """Run ``todo`` and append each record as it arrives; a failure says what is saved."""
    try:
        for record in completed_points(sweep, todo, executor, slots):
            store.append(record)
            progress.advance(sweep.base.replications)
    except SweepAborted as exc:
        raise SweepAborted(f"{exc}; {_saved_message(store)}") from exc


def _saved_message(store: RecordStore | None) -> str:
    if store is None or not store.done:
        return "no point had finished, so nothing is saved"
    return (f"{len(store.done)} of {store.sweep.n_points} points are saved in {store.folder}; "
            "rerun the same command with --resume to continue")


def write_outputs(sweep: Sweep, store: RecordStore, out_dir: Path, manifest: dict[str, Any], plots: bool) -> None:
    """Assemble the final folder from the records, all or nothing."""
    missing = sweep.n_points - len(store.done)
    if missing:
        raise SweepAborted(f"{missing} points are missing from {store.path}")
    table = sweep_table(sweep, store)
    with atomic_folder(out_dir) as tmp:
        write_csv(table, tmp / "sweep.csv")
        write_survival(sweep, store, tmp / "survival.csv")
        if sweep.design == "sobol":
            write_csv(sweep_sobol_table(sweep, table), tmp / "sobol.csv")
        write_json(manifest, tmp / "manifest.json")
        if plots:
            from sim.outputs.plots.sweep import plot_sweep_dir

            plot_sweep_dir(tmp)


def sweep_table(sweep: Sweep, store: RecordStore) -> pd.DataFrame:
    """``sweep.csv``: point, axis values, then ``METRIC_COLUMNS``, one row per point."""
    records = [store.read(point) for point in range(sweep.n_points)]
    metrics = pd.DataFrame([r["summary"] for r in records], columns=list(METRIC_COLUMNS))
    parts = [sweep.axis_table(), metrics]
    if sweep.posterior is not None:  # the spread and Monte-Carlo-only intervals; the *_ci_* columns are pooled
        from sim.stats.posterior import INTERVAL_KIND

        extra = pd.DataFrame([r["posterior"] for r in records], columns=list(POSTERIOR_COLUMNS))
        parts.append(extra.assign(interval=INTERVAL_KIND))
    return pd.concat(parts, axis=1)


def write_survival(sweep: Sweep, store: RecordStore, path: Path) -> Path:
    """``survival.csv`` in long form, streamed in batches of points so memory stays flat."""
    days = np.arange(sweep.base.horizon_days + 1)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for first in range(0, sweep.n_points, SURVIVAL_BATCH):
            batch = range(first, min(first + SURVIVAL_BATCH, sweep.n_points))
            frames = [_survival_rows(store.read(point), days) for point in batch]
            pd.concat(frames, ignore_index=True).to_csv(handle, header=first == 0, **CSV_OPTIONS)
    return path


def _survival_rows(record: dict[str, Any], days: np.ndarray) -> pd.DataFrame:
    n_holding = np.asarray(record["n_holding"], dtype=np.int64)
    worlds = int(record["summary"]["replications"])
    low, high = wilson_interval(n_holding, worlds)
    return pd.DataFrame({"point": record["point"], "day": days, "n_holding": n_holding,
                         "p_holding": n_holding / worlds, "ci_low": low, "ci_high": high},
                        columns=list(SURVIVAL_COLUMNS))


def _interval_fields(sweep: Sweep) -> dict[str, Any]:
    """What the intervals of ``sweep.csv`` and ``survival.csv`` hold, and the posterior they come from."""
    if sweep.posterior is None:
        return {"interval": "monte_carlo"}
    from sim.stats.posterior import INTERVAL_KIND

    return {"interval": INTERVAL_KIND, "posterior": sweep.posterior.describe(sweep.base.replications),
            "intervals": {"sweep.csv": f"{INTERVAL_KIND}: *_ci_low/_ci_high pooled over the posterior draws; "
                                       "*_mc_ci_* Monte Carlo only (Wilson); *_parameter_sd the spread across "
                                       "the posterior",
                          "survival.csv": "monte_carlo: Wilson, over all the point's worlds"}}


def sweep_manifest(sweep: Sweep, outcome: SweepOutcome, command_line: list[str] | None) -> dict[str, Any]:
    """What a reader needs to reproduce a sweep: the resolved definition and its hash, versions, timing."""
    found = versions()
    for package in ("SALib", "distributed"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    return {
        "name": sweep.name,
        "description": sweep.description,
        "sweep_file": sweep.source,
        "scenario_file": str(sweep.scenario_file),
        "design": sweep.design,
        "axes": sweep.axis_names,
        "n_points": sweep.n_points,
        "replications": sweep.base.replications,
        "seed": sweep.base.seed,
        "horizon_days": sweep.base.horizon_days,
        "sweep_hash": sweep.digest(),
        "sweep": sweep.definition(),
        **_interval_fields(sweep),
        "workers": outcome.workers,
        "executor": outcome.executor,
        "points_run": outcome.points_run,
        "points_resumed": outcome.points_resumed,
        "wall_seconds": round(outcome.wall_seconds, 3),
        "versions": found,
        "git_commit": git_commit(),
        "command_line": command_line,
    }
