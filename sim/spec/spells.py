"""Fortna's civil-war ceasefire record: the bundled file, its segments, its spells and the named selections.

The record (Fortna 2008, *Does Peacekeeping Work?*, Princeton UP; Fortna 2004, *ISQ* 48(2)) has one row per
**segment** of a ceasefire spell; a spell is split where its peacekeeping changes. Times are **days since the
ceasefire** (day 0). See ``seeds/record/README.md`` for the columns.

Selections and their roles (the committed plan file is the authority on roles; this is a summary):

=========================  ============  =============================================================
selection                  role          rows
=========================  ============  =============================================================
``calibration_segments``   calibration   segments of spells with ``pkop`` 0 or 1 in every segment
``held_out_segments``      held out      segments of spells with ``pkop >= 2`` in any segment; no
                                         statistic of them before the pre-registered comparison
``primary_analogue``       population    ``pcw == 1`` and ``outcome`` 3 (truce) or 4 (settlement);
                                         combine with one of the two above, never alone on results
``mission_group``          labels        ``pkop`` to none / political / monitoring / armed
=========================  ============  =============================================================

A selection returns a boolean :class:`pandas.Series` aligned with the frame it is given, so it composes with
``&``; :func:`spell_ids` turns a segment mask into the ids of the spells it covers.

This module imports nothing from ``sim`` (it sits in the ``spec`` layer).
"""

from __future__ import annotations

import hashlib
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

RECORD_SHA256 = "ebfbdd756c1c01a190a98eb53b444fa758419867e977d3041cdc2642b2190908"
"""SHA-256 of the bundled ``civil_war_ceasefire_spells.csv``; any other bytes are refused."""
RECORD_NAME = "civil_war_ceasefire_spells.csv"
RECORD_RELATIVE = f"data/seeds/record/{RECORD_NAME}"
"""The file's place inside the ``sim`` package."""

DATE_COLUMNS = ("cfdate", "t0", "t1", "faildate")
INT_COLUMNS = ("id", "ccode", "day_start", "day_end", "event", "failed", "morewar", "outcome", "pkop",
               "chapter", "consent", "enforce", "pk_dum", "UNpk_dum", "wartype", "pcw", "faction")
NULLABLE_INT_COLUMNS = ("estdate", "partcf", "pkwho")
"""Codes that are blank in some rows (kept as pandas' nullable ``Int64``)."""
FLOAT_COLUMNS = ("drop", "logdead", "wardur")

PKOP_CODES = range(6)
MISSION_GROUPS: dict[int, str] = {0: "none", 1: "political", 2: "monitoring", 3: "armed", 4: "armed", 5: "armed"}
"""``pkop`` code -> mission group: 0 none, 1 political mission, 2 unarmed monitoring, 3-5 armed missions."""
PRIMARY_OUTCOMES = (3, 4)
"""War outcomes of the primary analogue: 3 truce, 4 settlement."""


class RecordError(ValueError):
    """The record file is not the bundled one (hash mismatch) or its segments are inconsistent."""


def record_path() -> Path:
    """The bundled record file (package data of ``sim``; the source tree's copy if resources cannot find it)."""
    try:
        candidate = Path(str(resources.files("sim") / RECORD_RELATIVE))
    except (ModuleNotFoundError, TypeError):
        candidate = None
    if candidate is not None and candidate.is_file():
        return candidate
    return Path(__file__).resolve().parents[1] / RECORD_RELATIVE


def sha256_of(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_segments(path: Path | str | None = None, check_hash: bool = True) -> pd.DataFrame:
    """The record's segments, typed, sorted by spell id and start day, with contiguous risk intervals.

    Args:
        path: a copy of the record; the bundled file when ``None``.
        check_hash: refuse a file whose SHA-256 is not :data:`RECORD_SHA256` (the bundled file: 192 rows).

    Returns:
        One row per segment: the file's columns (dates as ``datetime64``, codes as ints, blank codes as
        nullable ``Int64``, ``firstob`` as bool) plus ``entry_day`` and ``exit_day``, the segment's risk
        interval ``(entry_day, exit_day]`` in days since the ceasefire. ``exit_day`` is ``day_end``;
        ``entry_day`` is 0 for a first segment and the previous segment's ``day_end`` otherwise. (The file's
        ``day_start`` of a later segment is the day after the previous end, Stata's inclusive-date convention;
        taken literally it would drop one day at risk at each split and, in a Kaplan-Meier risk set, leave the
        spell out on that day.)

    Raises:
        RecordError: the hash differs (with ``check_hash``), or the segments are inconsistent (a spell's
            segments overlap or leave more than a day's gap, a segment has no length, or an event is not on
            a spell's last segment).
    """
    source = Path(path) if path is not None else record_path()
    raw = source.read_bytes()
    if check_hash:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != RECORD_SHA256:
            raise RecordError(f"{source}: SHA-256 {digest} is not the record's {RECORD_SHA256}; "
                              "the file has changed or is not Fortna's record")
    frame = pd.read_csv(io.BytesIO(raw))
    missing = [c for c in (*DATE_COLUMNS, *INT_COLUMNS, *NULLABLE_INT_COLUMNS, *FLOAT_COLUMNS, "cname", "firstob")
               if c not in frame.columns]
    if missing:
        raise RecordError(f"{source}: columns missing: {', '.join(missing)}")
    return _with_risk_intervals(_typed(frame), source)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    typed = frame.copy()
    for column in DATE_COLUMNS:
        typed[column] = pd.to_datetime(typed[column], format="%Y-%m-%d")
    for column in INT_COLUMNS:
        typed[column] = typed[column].astype("int64")
    for column in NULLABLE_INT_COLUMNS:
        typed[column] = typed[column].astype("Int64")
    for column in FLOAT_COLUMNS:
        typed[column] = typed[column].astype("float64")
    typed["firstob"] = typed["firstob"].fillna(0).astype(bool)
    return typed.sort_values(["id", "day_start"], kind="stable").reset_index(drop=True)


def _with_risk_intervals(segments: pd.DataFrame, source: Path) -> pd.DataFrame:
    previous_end = segments.groupby("id")["day_end"].shift()
    first = previous_end.isna()
    gap = segments["day_start"] - previous_end
    problems = []
    if not (segments["day_end"] > segments["day_start"]).all():
        problems.append("a segment ends on or before its start")
    if not first.eq(segments["firstob"]).all() or not (segments.loc[first, "day_start"] == 0).all():
        problems.append("a spell's first segment is not flagged firstob or does not start on day 0")
    if not gap[~first].isin([0, 1]).all():
        problems.append("a spell's segments overlap or leave a gap of more than a day")
    if not segments["event"].isin([0, 1]).all():
        problems.append("event is not 0/1")
    last = segments["id"].ne(segments["id"].shift(-1))
    if (segments["event"].eq(1) & ~last).any():
        problems.append("an event is on a segment that is not the spell's last")
    if problems:
        raise RecordError(f"{source}: " + "; ".join(problems))
    segments = segments.copy()
    segments["entry_day"] = previous_end.fillna(0).astype("int64")
    segments["exit_day"] = segments["day_end"]
    return segments


def spells(segments: pd.DataFrame) -> pd.DataFrame:
    """One row per spell, indexed by position, from the segments of :func:`load_segments` (or a subset).

    Columns: ``id``, ``cname``, ``cfdate``, ``faildate``, ``entry_day`` (0), ``exit_day`` (last ``day_end``:
    the day war resumed or the censoring day, in days since the ceasefire), ``event`` (1 = war resumed),
    ``n_segments``, ``pkop_max`` and ``pkop_first`` (the highest and the first ``pkop``), the spell-constant
    codes ``pcw``, ``outcome``, ``estdate``, ``partcf``, ``drop``, ``wartype``, ``logdead``, ``wardur``,
    ``faction``, ``ccode``.
    """
    ordered = segments.sort_values(["id", "day_start"], kind="stable")
    grouped = ordered.groupby("id", sort=True)
    first = grouped.first()
    result = pd.DataFrame({
        "id": first.index.to_numpy(),
        "cname": first["cname"].to_numpy(),
        "cfdate": first["cfdate"].to_numpy(),
        "faildate": first["faildate"].to_numpy(),
        "entry_day": np.zeros(len(first), dtype="int64"),
        "exit_day": grouped["day_end"].max().to_numpy(),
        "event": grouped["event"].max().to_numpy(),
        "n_segments": grouped.size().to_numpy(),
        "pkop_max": grouped["pkop"].max().to_numpy(),
        "pkop_first": first["pkop"].to_numpy(),
    })
    for column in ("pcw", "outcome", "estdate", "partcf", "drop", "wartype", "logdead", "wardur", "faction",
                   "ccode"):
        result[column] = first[column].to_numpy()
    return result


# --------------------------------------------------------------------------- selections


def primary_analogue(frame: pd.DataFrame) -> pd.Series:
    """Mask of the primary analogue: post-Cold War (``pcw == 1``) spells whose war ended in a truce or a
    settlement (``outcome`` 3 or 4). Works on segments or on :func:`spells` (both carry ``pcw``, ``outcome``).

    Role: the population of the primary comparison. It says nothing about missions: combine it with
    :func:`calibration_segments` for calibration; with :func:`held_out_segments` only in the pre-registered test.
    """
    return (frame["pcw"] == 1) & frame["outcome"].isin(PRIMARY_OUTCOMES)


def calibration_segments(segments: pd.DataFrame) -> pd.Series:
    """Mask of the segments of spells that never had a peacekeeping mission: ``pkop`` 0 or 1 in every segment.

    Role: **calibration**. These segments (all of each such spell) may be used to fit and tune the model.
    """
    spell_max = segments.groupby("id")["pkop"].transform("max")
    return spell_max <= 1


def held_out_segments(segments: pd.DataFrame) -> pd.Series:
    """Mask of the segments of spells that had a mission (``pkop >= 2``) in any segment, all their segments.

    Role: **held out**. The exact complement of :func:`calibration_segments`. Compute no statistic of these
    segments (failures, hazards, curves, comparisons by mission type) before the pre-registered comparison.
    """
    return ~calibration_segments(segments)


def spell_ids(segments: pd.DataFrame, mask: pd.Series | None = None) -> np.ndarray:
    """Sorted unique spell ids of the segments (those where ``mask`` is true, if given)."""
    chosen = segments if mask is None else segments[mask]
    return np.unique(chosen["id"].to_numpy())


def mission_group(pkop: int | np.ndarray | pd.Series) -> str | np.ndarray | pd.Series:
    """Mission group of ``pkop`` codes 0-5: "none" (0), "political" (1), "monitoring" (2), "armed" (3-5).

    Returns a str for an int, an object array for an array, a Series (same index) for a Series.

    Raises:
        ValueError: a code outside 0-5.
    """
    if isinstance(pkop, pd.Series):
        return pd.Series(mission_group(pkop.to_numpy()), index=pkop.index, name="mission_group")
    codes = np.asarray(pkop)
    if codes.dtype.kind not in "iu" or not np.isin(codes, list(PKOP_CODES)).all():
        raise ValueError(f"pkop codes are integers 0-5, got {np.unique(codes)!r}")
    if codes.ndim == 0:
        return MISSION_GROUPS[int(codes)]
    lookup = np.array([MISSION_GROUPS[code] for code in PKOP_CODES], dtype=object)
    return lookup[codes]
