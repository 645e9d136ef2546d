"""Figures drawn from result tables (CSV) only, so any figure can be redrawn from a run folder.

Every ``plot_*`` function draws tables produced by :mod:`sim.stats.metrics` (``survival.csv``,
``trajectories.csv``, ``summary.csv``), returns the :class:`matplotlib.figure.Figure` (a notebook shows it,
and it can be adjusted) and, when given a path, also saves it there as PNG. Figures are built on
:class:`~matplotlib.figure.Figure` and drawn on an Agg canvas directly, so pyplot is never imported and no
global state is touched.

Cost (the main job draws three figures; ``benchmarks/bench_plots.py`` measures them):

* the three run figures have fixed margins (:class:`Margins`, in inches) instead of constrained layout, whose
  measuring of every tick label cost as much as drawing the figure; after drawing, :func:`layout_fits` checks
  that no title, label or tick label leaves the figure or runs into another panel, and only then is the
  figure laid out again with constrained layout (a scenario name of 30 characters or more, troop numbers in
  the millions);
* a figure with a layout engine is laid out once and drawn once (``savefig`` lays it out twice and draws it
  twice);
* daily curves are thinned by :func:`thin_points`: a day is left out only where the drawn curve and its
  band stay within :data:`PIXEL_TOLERANCE` pixel of the full ones at the saved size.
"""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from matplotlib import __version__ as MATPLOTLIB_VERSION
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.text import Text
from matplotlib.ticker import PercentFormatter, StrMethodFormatter
from matplotlib.transforms import Bbox

from sim.outputs.atomic import atomic_file
from sim.outputs.ownership import mark_png
from sim.stats.metrics import CAUSES, HOLD_DAYS, wilson_interval

if TYPE_CHECKING:
    from sim.experiments.run import RunResult

RUN_PLOTS: tuple[str, ...] = ("survival.png", "trajectories.png", "causes.png")
"""File names :func:`plot_run_dir` writes into a run folder, in order."""

DPI = 120
PIXEL_TOLERANCE = 0.5
"""Largest vertical distance, in pixels of the saved PNG, between a thinned curve (or band edge) and the full one."""
BAND_ALPHA = 0.25
DAY_LABEL = "days since ceasefire"
HOLD_LABEL = "P(ceasefire holding)"

SURVIVAL_COLUMNS: tuple[str, ...] = (
    "day",
    "n_worlds",
    "n_agreed",
    "p_holding",
    "ci_low",
    "ci_high",
    "p_holding_given_deal",
    "ci_low_given_deal",
    "ci_high_given_deal",
)

TRAJECTORY_VARS: dict[str, tuple[str, str]] = {
    "credibility": ("Credibility of the guarantee", "Russia's belief it will be honoured (0–1)"),
    "escalation": ("Escalation", "escalation level (dimensionless, ≥ 0)"),
    "coalition_troops": ("European troops in Ukraine", "ground troops (count)"),
    "detection_probability": ("US monitoring", "detection probability (0–1)"),
}
"""Trajectory variable -> (panel title, y-axis label with units)."""

UNIT_INTERVAL_VARS = frozenset({"credibility", "detection_probability"})

TRAJECTORY_COLUMNS: tuple[str, ...] = ("day",) + tuple(
    f"{var}_{stat}" for var in TRAJECTORY_VARS for stat in ("mean", "p10", "p90")
)

SUMMARY_COLUMNS: tuple[str, ...] = ("scenario", "replications", "horizon_days") + tuple(
    f"share_{cause}" for cause in CAUSES
)

SURVIVAL_NUMBERS: tuple[str, ...] = ("day", "n_worlds", "n_agreed", "p_holding", "ci_low", "ci_high")
"""Columns of ``survival.csv`` that hold a number on every line."""
SURVIVAL_GIVEN_DEAL: tuple[str, ...] = ("p_holding_given_deal", "ci_low_given_deal", "ci_high_given_deal")
"""Columns of ``survival.csv`` that are empty where no world reached a deal."""
SURVIVAL_PROBABILITIES: tuple[str, ...] = SURVIVAL_NUMBERS[3:] + SURVIVAL_GIVEN_DEAL
SUMMARY_NUMBERS: tuple[str, ...] = SUMMARY_COLUMNS[1:]

_READ_ONLY = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})

CAUSE_LABELS: dict[str, str] = {
    "no_deal": "no deal",
    "major_offensive": "major offensive",
    "escalation_spiral": "escalation spiral",
    "ukrainian_withdrawal": "Ukrainian withdrawal",
    "held": "ceasefire held",
}

CAUSE_COLOURS: dict[str, str] = {
    "no_deal": "tab:gray",
    "major_offensive": "tab:red",
    "escalation_spiral": "tab:orange",
    "ukrainian_withdrawal": "tab:purple",
    "held": "tab:green",
}


class PlotInputError(ValueError):
    """A table needed for a figure is missing, unreadable, empty or lacks columns."""


# --------------------------------------------------------------------------- input


def check_columns(table: pd.DataFrame, required: Sequence[str], source: str) -> None:
    """Raise PlotInputError naming ``source`` if ``table`` lacks any ``required`` column."""
    missing = [col for col in required if col not in table.columns]
    if missing:
        raise PlotInputError(f"{source}: missing columns: {', '.join(missing)}")


def read_table(path: Path, required: Sequence[str], *, numbers: Sequence[str] = (),
               optional_numbers: Sequence[str] = (), probabilities: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV table and check it has rows, the ``required`` columns and numbers where numbers belong.

    Args:
        path: CSV file to read.
        required: column names that must be present.
        numbers: columns that must hold a finite number on every line.
        optional_numbers: columns that hold a finite number or nothing.
        probabilities: columns (among the two above) whose numbers must lie in [0, 1].

    Returns:
        The table, with the number columns as floats or integers.

    Raises:
        PlotInputError: one-line message naming the file (and the column and line) if it is missing,
            cannot be parsed, has no rows, lacks columns, or holds text, nothing or an impossible
            value where a number belongs.
    """
    path = Path(path)
    if not path.is_file():
        raise PlotInputError(f"{path}: file not found")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise PlotInputError(f"{path}: empty file (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise PlotInputError(f"{path}: cannot parse CSV: {reason}") from None
    check_columns(table, required, str(path))
    if table.empty:
        raise PlotInputError(f"{path}: empty table (header but no rows)")
    for column in (*numbers, *optional_numbers):
        table[column] = check_numbers(table[column], f"{path}: column {column}", column in numbers)
    for column in probabilities:
        outside = ~table[column].between(0.0, 1.0) & table[column].notna()
        if outside.any():
            raise PlotInputError(f"{path}: column {column}: must be a probability in [0, 1] on line "
                                 f"{_line(outside)}: {float(table[column][outside].iloc[0]):g}")
    return table


def check_numbers(values: pd.Series, label: str, required: bool = True) -> pd.Series:
    """``values`` as numbers; raise PlotInputError (``label: ...``) at the first text, infinity or (if ``required``)
    empty cell, giving its line in the file (the header is line 1)."""
    numeric = pd.to_numeric(values, errors="coerce")
    text = numeric.isna() & values.notna()
    if text.any():
        raise PlotInputError(f"{label}: not a number on line {_line(text)}: {_cell(values[text].iloc[0])}")
    infinite = numeric.abs().eq(np.inf)
    if infinite.any():
        raise PlotInputError(f"{label}: not a finite number on line {_line(infinite)}")
    if required and numeric.isna().any():
        raise PlotInputError(f"{label}: empty on line {_line(numeric.isna())}; a number is required")
    return numeric


def _line(mask: pd.Series) -> int:
    """The file line of the first row where ``mask`` holds (line 1 is the header)."""
    return int(np.flatnonzero(mask.to_numpy())[0]) + 2


def _cell(value: object) -> str:
    """A cell for a message: quoted, cut short, control characters escaped."""
    text = repr(str(value))
    return text if len(text) <= 40 else text[:37] + "..."


def check_days(table: pd.DataFrame, source: str, horizon_days: int | None = None) -> None:
    """The ``day`` column runs 0, 1, 2, ... without gaps, to ``horizon_days`` when it is known.

    Raises:
        PlotInputError: a day is missing, repeated or out of order (the table is truncated or damaged).
    """
    days = table["day"].to_numpy(float)
    wrong = days != np.arange(len(days))
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        raise PlotInputError(f"{source}: column day: must run 0, 1, 2, ... without gaps; line {first + 2} has "
                             f"{days[first]:g} where {first} belongs (a damaged or truncated table)")
    if horizon_days is not None and len(days) != horizon_days + 1:
        raise PlotInputError(f"{source}: days 0..{len(days) - 1}, but summary.csv says the horizon is "
                             f"{horizon_days} days (a truncated table)")


def read_run_tables(run_dir: Path, trajectories: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """``survival.csv``, ``trajectories.csv`` (if asked) and ``summary.csv`` of a run folder, all checked.

    Raises:
        PlotInputError: a table is missing or damaged, or its days do not match the summary's horizon.
    """
    run_dir = Path(run_dir)
    survival = read_table(run_dir / "survival.csv", SURVIVAL_COLUMNS, numbers=SURVIVAL_NUMBERS,
                          optional_numbers=SURVIVAL_GIVEN_DEAL, probabilities=SURVIVAL_PROBABILITIES)
    path = run_dir / "trajectories.csv"
    table = read_table(path, TRAJECTORY_COLUMNS, numbers=("day",),
                       optional_numbers=TRAJECTORY_COLUMNS[1:]) if trajectories else None
    summary = read_table(run_dir / "summary.csv", SUMMARY_COLUMNS, numbers=SUMMARY_NUMBERS,
                         probabilities=SUMMARY_NUMBERS[2:])
    horizon = summary["horizon_days"].iloc[0]
    if horizon != int(horizon) or horizon < 0:
        raise PlotInputError(f"{run_dir / 'summary.csv'}: column horizon_days: must be a whole number of days")
    check_days(survival, str(run_dir / "survival.csv"), int(horizon))
    if table is not None:
        check_days(table, str(path), int(horizon))
    return survival, table, summary


# --------------------------------------------------------------------------- drawing helpers


class Margins(NamedTuple):
    """Fixed margins of a grid of panels, in inches: figure edges to the panels, and gaps between panels."""

    left: float
    right: float
    bottom: float
    top: float
    wspace: float = 0.0
    hspace: float = 0.0


TITLE_Y = 1.0
"""Panel titles sit just above the panel (plus their pad): given, rather than left to matplotlib, which measures
the whole y-axis to move a title clear of ticks at the top, and these panels have none there."""

SURVIVAL_MARGINS = Margins(left=0.62, right=0.2, bottom=0.52, top=0.42)
"""Room for the survival plot's tick labels and axis labels, its title and the hold-day marks above the panel."""
TRAJECTORY_MARGINS = Margins(left=0.9, right=0.2, bottom=0.74, top=0.55, wspace=0.7, hspace=0.76)
"""Room for the labels of four panels (troop numbers up to about 400,000), the suptitle and the note below."""
CAUSE_MARGINS = Margins(left=1.7, right=0.2, bottom=0.52, top=0.3)
"""Room for the outcome names left of the bars."""


def new_figure(
    width: float = 8.0, height: float = 5.0, nrows: int = 1, ncols: int = 1, margins: Margins | None = None
) -> tuple[Figure, np.ndarray]:
    """A ``width`` x ``height`` inch figure and an array of axes (always 2-D).

    Args:
        margins: fixed margins (cheap to draw; :func:`save_figure` falls back to constrained layout if the
            labels do not fit in them); ``None`` for constrained layout.
    """
    if margins is None:
        fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        return fig, fig.subplots(nrows, ncols, squeeze=False)
    fig = Figure(figsize=(width, height), dpi=DPI)
    panel_width = (width - margins.left - margins.right - (ncols - 1) * margins.wspace) / ncols
    panel_height = (height - margins.bottom - margins.top - (nrows - 1) * margins.hspace) / nrows
    if panel_width <= 0 or panel_height <= 0:
        raise ValueError(f"margins {margins} leave no room for panels in a {width} x {height} inch figure")
    fig.subplots_adjust(
        left=margins.left / width, right=1 - margins.right / width,
        bottom=margins.bottom / height, top=1 - margins.top / height,
        wspace=margins.wspace / panel_width, hspace=margins.hspace / panel_height,
    )
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def data_tolerance(span: float, height_inches: float, nrows: int = 1) -> float:
    """The vertical distance, in data units, that is :data:`PIXEL_TOLERANCE` pixels at the saved size.

    A bound that holds whatever the layout: a panel is never taller than its share of the figure
    (``height_inches / nrows``, times :data:`DPI` pixels), so a pixel is at least ``span`` over that many
    pixels of data.

    Args:
        span: a lower bound on the y-axis range (data units, ≥ 0).
        height_inches: height of the figure (inches).
        nrows: rows of panels.
    """
    return PIXEL_TOLERANCE * max(span, 0.0) / (height_inches * DPI / nrows)


def thin_points(values: np.ndarray, tolerance: float, step: bool = False) -> np.ndarray:
    """Indices of the rows of ``values`` worth drawing: the curves through them stay within ``tolerance`` of all.

    The rule, for curves drawn over the same x (rows are points, columns are curves, e.g. a mean and its
    band's two edges, thinned together so the band keeps its information):

    * always kept: the first and last rows; every row next to a change in which columns are NaN (so gaps and
      the ends of bands stay where they were); the rows of each column's largest and smallest value (so
      autoscaled axis limits are unchanged);
    * ``step`` (a ``steps-post`` curve): a row is kept when any column has moved by more than ``tolerance``
      since the last kept row; the drawn curve holds the last kept value, so it is never further than
      ``tolerance`` from the full one;
    * otherwise (straight segments): also kept is every row further than ``tolerance`` from the midpoint of
      its neighbours (a kink, where searching would cost time for little); between kept rows, each segment
      from a kept row runs to the furthest row (never past a kept row) such that every left-out row between
      them lies within ``tolerance`` of it (vertically; :func:`_furthest_chord`). So the drawn polyline is
      never further than ``tolerance`` from the full one (the largest gap between two polylines is at a
      vertex).

    Args:
        values: array of shape (n,) or (n, k); NaN where nothing is drawn.
        tolerance: largest vertical error allowed, in the values' units (≥ 0).
        step: the curve is a step curve (``steps-post``) rather than straight segments.

    Returns:
        Increasing row indices.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n = len(values)
    if n <= 2:
        return np.arange(n)
    finite = np.isfinite(values)
    keep = np.zeros(n, dtype=bool)
    keep[[0, -1]] = True
    changes = np.any(finite[1:] != finite[:-1], axis=1)
    keep[1:] |= changes
    keep[:-1] |= changes
    for column, ok in zip(values.T, finite.T, strict=True):
        if ok.any():
            keep[np.nanargmax(column)] = keep[np.nanargmin(column)] = True
    filled = np.where(finite, values, 0.0)  # which cells are NaN only changes at always-kept rows
    if step:
        return _thin_steps(filled, keep, tolerance)
    kink = np.abs(filled[1:-1] - (filled[:-2] + filled[2:]) / 2) > tolerance
    keep[1:-1] |= np.any(kink, axis=1)
    anchors = np.flatnonzero(keep)
    for start, limit in zip(anchors[:-1], anchors[1:], strict=True):
        while limit - start > 1:  # rows between: a segment from ``start`` reaches as far as it fits
            start = _furthest_chord(filled, start, limit, tolerance)
            keep[start] = True
    return np.flatnonzero(keep)


def _thin_steps(values: np.ndarray, keep: np.ndarray, tolerance: float) -> np.ndarray:
    """:func:`thin_points` for a step curve: after each kept row, the next row kept is the first one that is kept
    anyway or has moved by more than ``tolerance`` in any column (a loop over plain floats: a few hundred
    short rows are quicker in Python than in numpy)."""
    kept = keep.tolist()
    rows = values.tolist()
    last = rows[0]
    for i, row in enumerate(rows):
        if kept[i] or any(abs(value - before) > tolerance for value, before in zip(row, last, strict=True)):
            kept[i] = True
            last = row
    return np.flatnonzero(kept)


def _furthest_chord(values: np.ndarray, start: int, limit: int, tolerance: float) -> int:
    """The furthest row up to ``limit`` whose straight segment from ``start`` passes within ``tolerance`` of
    every row between them (``start + 1`` if none further does).

    A segment from ``start`` passes within ``tolerance`` of row ``start + j`` when its slope (per row) lies in
    ``[(rise_j - tolerance) / j, (rise_j + tolerance) / j]``; the segment to row ``start + j`` fits when its
    slope lies in all these intervals of the rows before it, at once for every row (running max and min).
    """
    offsets = np.arange(1, limit - start + 1)[:, None]
    rise = values[start + 1:limit + 1] - values[start]
    slope = rise / offsets
    lowest = np.maximum.accumulate((rise - tolerance) / offsets, axis=0)
    highest = np.minimum.accumulate((rise + tolerance) / offsets, axis=0)
    fits = np.flatnonzero(np.all((slope[1:] >= lowest[:-1]) & (slope[1:] <= highest[:-1]), axis=1))
    return start + (int(fits[-1]) + 2 if len(fits) else 1)


def _thinned(table: pd.DataFrame, columns: Sequence[str], tolerance: float, step: bool) -> pd.DataFrame:
    """The rows of ``table`` that :func:`thin_points` keeps for ``columns``."""
    return table.iloc[thin_points(table[list(columns)].to_numpy(float), tolerance, step)]


def _texts(fig: Figure) -> Iterator[tuple[int, Text]]:
    """(owner, text) for every non-empty visible text of ``fig``: owner is the axes' index, -1 for the figure.

    Per axes: its title, axis labels, offset texts, annotations and the tick labels within its view.
    """
    for text in fig.texts:
        yield -1, text
    for owner, ax in enumerate(fig.axes):
        yield from ((owner, text) for text in (ax.title, *ax.texts))
        for axis in (ax.xaxis, ax.yaxis):
            yield owner, axis.label
            yield owner, axis.offsetText
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * max(1.0, high - low)
            for tick in axis.get_major_ticks():
                if low - slack <= tick.get_loc() <= high + slack:
                    yield owner, tick.label1
                    yield owner, tick.label2


def _overlap(first: Bbox, second: Bbox, slack: float) -> bool:
    """The two boxes share more than ``slack`` pixels both ways."""
    return (min(first.x1, second.x1) - max(first.x0, second.x0) > slack
            and min(first.y1, second.y1) - max(first.y0, second.y0) > slack)


def layout_fits(fig: Figure, renderer: object, slack: float = 1.0) -> bool:
    """After a draw: no text of ``fig`` leaves it, and none runs into another panel or another panel's texts.

    Args:
        renderer: the renderer ``fig`` was drawn with (text sizes are measured with it).
        slack: overlap tolerated, in pixels (texts touching a panel or the figure's edge).
    """
    frame = fig.bbox
    boxes: list[tuple[int, Bbox]] = []
    for owner, text in _texts(fig):
        if not (text.get_visible() and text.get_text()):
            continue
        box = text.get_window_extent(renderer)
        if (box.x0 < frame.x0 - slack or box.x1 > frame.x1 + slack
                or box.y0 < frame.y0 - slack or box.y1 > frame.y1 + slack):
            return False
        boxes.append((owner, box))
    panels = [ax.bbox for ax in fig.axes]
    for owner, box in boxes:
        if any(other != owner and _overlap(box, panel, slack) for other, panel in enumerate(panels)):
            return False
    return not any(
        first_owner != second_owner and _overlap(first, second, slack)
        for i, (first_owner, first) in enumerate(boxes) for second_owner, second in boxes[i + 1:]
    )


def render(fig: Figure) -> FigureCanvasAgg:
    """Draw ``fig`` once on an Agg canvas and return the canvas (its pixels in ``buffer_rgba()``).

    A figure with a layout engine is laid out once, then drawn with the engine held back (``savefig`` lays
    it out and draws it twice). A figure with fixed margins is drawn as it is; if :func:`layout_fits` finds
    a label outside the figure or over another panel, it is given constrained layout and drawn again.
    """
    canvas = FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    if engine is None:
        canvas.draw()
        if layout_fits(fig, canvas.get_renderer()):
            return canvas
        fig.set_layout_engine("constrained")
        engine = fig.get_layout_engine()
    if isinstance(engine, PlaceHolderLayoutEngine):
        canvas.draw()
        return canvas
    engine.execute(fig)
    fig.set_layout_engine("none")
    try:
        canvas.draw()
    finally:
        fig.set_layout_engine(engine)
    return canvas


def _write_png(fig: Figure, path: Path) -> None:
    """Draw ``fig`` (see :func:`render`) and write it as PNG at :data:`DPI` dots per inch."""
    if fig.dpi != DPI:  # a figure made elsewhere: let matplotlib scale it
        fig.savefig(path, dpi=DPI, format="png")
        return
    canvas = render(fig)
    imsave(path, canvas.buffer_rgba(), format="png", origin="upper", dpi=DPI,
           metadata={"Software": f"Matplotlib version{MATPLOTLIB_VERSION}, https://matplotlib.org/"})


def save_figure(fig: Figure, path: Path, release: bool = True) -> Path:
    """Save ``fig`` as PNG to ``path`` (creating the folder) and, if ``release``, clear it to free its memory.

    Raises:
        PlotInputError: the folder cannot be written (read-only, no permission); other OSErrors
            (a full disk) propagate as they are.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_png(fig, path)
    except OSError as exc:
        if exc.errno not in _READ_ONLY:
            raise
        raise PlotInputError(f"{path}: cannot write the figure ({exc.strerror}); the folder is read-only "
                             "for you: copy it somewhere writable") from None
    finally:
        if release:
            fig.clear()
    return path


def finish_figure(fig: Figure, path: str | Path | None) -> Figure:
    """Save ``fig`` as PNG to ``path`` when one is given (see :func:`save_figure`); return ``fig``."""
    if path is not None:
        save_figure(fig, Path(path), release=False)
    return fig


def line_with_band(
    ax: Axes,
    x: pd.Series,
    y: pd.Series,
    low: pd.Series,
    high: pd.Series,
    *,
    label: str,
    colour: str,
    step: bool = False,
) -> None:
    """Draw a line ``y(x)`` with a shaded band between ``low`` and ``high`` in one colour.

    Args:
        step: draw a step curve (for daily survival), else a straight-segment line.
    """
    x_arr, y_arr = x.to_numpy(float), y.to_numpy(float)
    lo_arr, hi_arr = low.to_numpy(float), high.to_numpy(float)
    drawstyle = "steps-post" if step else "default"
    ax.plot(x_arr, y_arr, color=colour, lw=1.8, label=label, drawstyle=drawstyle)
    ax.fill_between(
        x_arr, lo_arr, hi_arr, color=colour, alpha=BAND_ALPHA, lw=0,
        step="post" if step else None, where=~(np.isnan(lo_arr) | np.isnan(hi_arr)),
    )


def _mark_hold_days(ax: Axes, horizon: float) -> None:
    """Light vertical lines at the reported hold days (90, 365) that fall within ``horizon`` (days)."""
    for day in HOLD_DAYS:
        if day <= horizon:
            ax.axvline(day, color="0.6", lw=0.8, ls="--", zorder=0)
            ax.annotate(
                f"{day} d", xy=(day, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                textcoords="offset points", ha="center", va="bottom", fontsize=8, color="0.4",
            )


def _survival_axes(ax: Axes, horizon: float, title: str) -> None:
    """Common axes of a survival plot: labels, 0–1 probability scale, hold-day markers."""
    _mark_hold_days(ax, horizon)
    ax.set_xlim(0, max(horizon, 1))
    ax.set_ylim(*SURVIVAL_YLIM)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel(DAY_LABEL)
    ax.set_ylabel(HOLD_LABEL)
    ax.set_title(title, pad=14, y=TITLE_Y)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", title="shaded: Wilson 95% CI", fontsize=9, title_fontsize=9)


def _survival_columns(given_deal: bool) -> tuple[str, str, str]:
    """Names of the (probability, CI low, CI high) columns of a survival table."""
    suffix = "_given_deal" if given_deal else ""
    return f"p_holding{suffix}", f"ci_low{suffix}", f"ci_high{suffix}"


SURVIVAL_YLIM = (-0.02, 1.02)
"""y-axis of survival plots: margin so a curve at exactly 0 or 1 is not hidden by the frame."""


def _draw_survival(
    ax: Axes, survival: pd.DataFrame, given_deal: bool, label: str, colour: str, tolerance: float = 0.0
) -> None:
    """One survival step curve with its Wilson band, thinned to ``tolerance`` (probability, see
    :func:`thin_points`); says so in the label when it is undefined."""
    columns = _survival_columns(given_deal)
    if survival[columns[0]].isna().all():
        label = f"{label}: no deal in any world"
    shown = _thinned(survival, columns, tolerance, step=True)
    line_with_band(ax, shown["day"], *(shown[c] for c in columns), label=label, colour=colour, step=True)


# --------------------------------------------------------------------------- figures


def _is_result(value: Any) -> bool:
    """Whether ``value`` is a ``RunResult`` (by its tables, so that drawing needs no import of the engine)."""
    return not isinstance(value, (pd.DataFrame, str, tuple)) and hasattr(value, "survival") \
        and hasattr(value, "scenario") and hasattr(value, "summary")


def _results(value: Any) -> list[Any] | None:
    """``value`` as a list of ``RunResult``s when it is one or a list of them, else None."""
    if _is_result(value):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(_is_result(v) for v in value):
        return list(value)
    return None


def plot_survival(survival: pd.DataFrame | RunResult | Sequence[RunResult], scenario: str | None = None,
                  path: str | Path | None = None) -> Figure:
    """P(ceasefire holding) by day, over all worlds and given a deal, with Wilson 95% bands.

    Args:
        survival: table in the ``survival.csv`` format (days, probabilities in [0, 1]), or a ``RunResult``
            (``sim.plot_survival(result)``); a list of ``RunResult``s is drawn by :func:`plot_compare`.
        scenario: scenario name for the title (default: the result's scenario, or none for a table).
        path: PNG file to write, if any.

    Returns:
        The figure.
    """
    results = _results(survival)
    if results is not None and len(results) > 1 or isinstance(survival, (list, tuple)):
        return plot_compare(results or survival, path=path)
    if results is not None:
        survival, scenario = results[0].survival, scenario or results[0].scenario.name
    scenario = scenario or "run"
    check_columns(survival, SURVIVAL_COLUMNS, "survival table")
    n_worlds = int(survival["n_worlds"].iloc[0])
    n_agreed = int(survival["n_agreed"].iloc[0])
    fig, axes = new_figure(8.0, 5.0, margins=SURVIVAL_MARGINS)
    ax = axes[0, 0]
    tolerance = data_tolerance(SURVIVAL_YLIM[1] - SURVIVAL_YLIM[0], fig.get_figheight())
    _draw_survival(ax, survival, False, f"all worlds, no deal = not holding (N={n_worlds})", "tab:blue", tolerance)
    _draw_survival(ax, survival, True, f"worlds that reached a deal (N={n_agreed})", "tab:orange", tolerance)
    _survival_axes(ax, float(survival["day"].max()), f"{scenario}: probability the ceasefire holds")
    return finish_figure(fig, path)


def plot_trajectories(trajectories: pd.DataFrame | RunResult, scenario: str | None = None,
                      path: str | Path | None = None) -> Figure:
    """2×2 panels of state variables over time: mean with 10th–90th percentile band.

    Statistics are over the worlds where the ceasefire still holds that day.

    Args:
        trajectories: table in the ``trajectories.csv`` format (days; units per variable), or a ``RunResult``
            that recorded them.
        scenario: scenario name for the title (default: the result's scenario).
        path: PNG file to write, if any.

    Returns:
        The figure.
    """
    if _is_result(trajectories):
        result = trajectories
        if result.trajectories is None:
            raise PlotInputError(f"plot_trajectories: {result.scenario.name}: run without trajectories "
                                 "(run_scenario(..., record_trajectories=True))")
        trajectories, scenario = result.trajectories, scenario or result.scenario.name
    scenario = scenario or "run"
    check_columns(trajectories, TRAJECTORY_COLUMNS, "trajectories table")
    fig, axes = new_figure(11.0, 7.5, 2, 2, margins=TRAJECTORY_MARGINS)
    day = trajectories["day"]
    for ax, (var, (title, ylabel)) in zip(axes.flat, TRAJECTORY_VARS.items(), strict=True):
        cols = [f"{var}_{stat}" for stat in ("mean", "p10", "p90")]
        # the y-axis runs from 0 to 1, or from 0 to at least the largest value: a lower bound on its span
        span = 1.0 if var in UNIT_INTERVAL_VARS else float(np.nan_to_num(np.nanmax(
            trajectories[cols].to_numpy(float), initial=0.0), posinf=0.0))
        shown = _thinned(trajectories, cols, data_tolerance(span, fig.get_figheight(), nrows=2), step=False)
        line_with_band(ax, shown["day"], *(shown[c] for c in cols), label="mean", colour="tab:blue")
        ax.plot([], [], color="tab:blue", alpha=BAND_ALPHA, lw=8, label="10th–90th percentile")
        if trajectories[cols[0]].isna().all():
            ax.text(0.5, 0.5, "no world holding", transform=ax.transAxes, ha="center", color="0.4")
        ax.set_title(title, y=TITLE_Y)
        ax.set_xlabel(DAY_LABEL)
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, max(float(day.max()), 1))
        if var in UNIT_INTERVAL_VARS:
            ax.set_ylim(0, 1)
        else:
            ax.set_ylim(bottom=0)
        if var == "coalition_troops":
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    fig.suptitle(f"{scenario}: state of the ceasefire over time")
    fig.supxlabel(
        "Statistics over worlds where the ceasefire still holds that day; gaps where none holds.",
        fontsize=9, color="0.35",
    )
    return finish_figure(fig, path)


def plot_causes(summary: pd.DataFrame | RunResult, path: str | Path | None = None) -> Figure:
    """Share of worlds by outcome (why the ceasefire failed, or that it held), with Wilson 95% error bars.

    Args:
        summary: one-row table in the ``summary.csv`` format (shares in [0, 1]), or a ``RunResult``.
        path: PNG file to write, if any.

    Returns:
        The figure.
    """
    if _is_result(summary):
        summary = summary.summary
    check_columns(summary, SUMMARY_COLUMNS, "summary table")
    row = summary.iloc[0]
    n = int(row["replications"])
    shares = np.array([float(row[f"share_{cause}"]) for cause in CAUSES])
    low, high = wilson_interval(np.round(shares * n), n)
    errors = np.vstack([shares - low, high - shares]).clip(min=0)
    fig, axes = new_figure(8.0, 4.5, margins=CAUSE_MARGINS)
    ax = axes[0, 0]
    positions = np.arange(len(CAUSES))
    ax.barh(
        positions, shares, xerr=errors, capsize=4, error_kw={"lw": 1.2, "ecolor": "0.2"},
        color=[CAUSE_COLOURS.get(c, "tab:blue") for c in CAUSES],
    )
    for y, share, top in zip(positions, shares, high, strict=True):
        ax.annotate(
            f"{share:.1%}", xy=(top, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize=9
        )
    ax.set_yticks(positions, [CAUSE_LABELS.get(c, c.replace("_", " ")) for c in CAUSES])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("share of worlds (%, error bars: Wilson 95% CI)")
    ax.set_title(f"{row['scenario']}: outcome by day {int(row['horizon_days'])} (N={n} worlds)", y=TITLE_Y)
    ax.grid(axis="x", alpha=0.3)
    return finish_figure(fig, path)


def plot_compare(
    runs: Sequence[tuple[str, pd.DataFrame] | RunResult] | RunResult, path: str | Path | None = None,
    given_deal: bool = False
) -> Figure:
    """Overlay the survival curves of several runs, each with its Wilson 95% band.

    Args:
        runs: ``RunResult``s (labelled by their scenarios' names, made unique) or (label, survival table)
            pairs, tables in the ``survival.csv`` format; the two may be mixed.
        path: PNG file to write, if any.
        given_deal: plot P(holding | deal) instead of P(holding) over all worlds.

    Returns:
        The figure.
    """
    runs = [runs] if _is_result(runs) else list(runs)
    if not runs:
        raise PlotInputError("plot_compare: no runs to compare")
    runs = _labelled(runs)
    fig, axes = new_figure(9.0, 5.5)
    ax = axes[0, 0]
    n_col = "n_agreed" if given_deal else "n_worlds"
    tolerance = data_tolerance(SURVIVAL_YLIM[1] - SURVIVAL_YLIM[0], fig.get_figheight())
    for i, (label, survival) in enumerate(runs):
        check_columns(survival, SURVIVAL_COLUMNS, f"survival table of {label!r}")
        n = int(survival[n_col].iloc[0])
        _draw_survival(ax, survival, given_deal, f"{label} (N={n})", f"C{i % 10}", tolerance)
    horizon = max(float(survival["day"].max()) for _, survival in runs)
    condition = "given a deal" if given_deal else "all worlds, no deal = not holding"
    _survival_axes(ax, horizon, f"Probability the ceasefire holds: scenarios compared ({condition})")
    return finish_figure(fig, path)


def _labelled(runs: Sequence[Any]) -> list[tuple[str, pd.DataFrame]]:
    """(label, survival) pairs: a ``RunResult`` labelled by its scenario's name, ``#2``, ``#3`` … added to
    names that repeat."""
    pairs = []
    for run in runs:
        if _is_result(run):
            pairs.append((run.scenario.name, run.survival))
        elif isinstance(run, (tuple, list)) and len(run) == 2:
            pairs.append((str(run[0]), run[1]))
        else:
            raise PlotInputError(f"plot_compare: each run must be a RunResult or a (label, survival table) pair "
                                 f"(got {type(run).__name__})")
    counts = Counter(label for label, _ in pairs)
    seen: Counter[str] = Counter()
    out = []
    for label, survival in pairs:
        seen[label] += 1
        out.append((f"{label} #{seen[label]}" if counts[label] > 1 else label, survival))
    return out


# --------------------------------------------------------------------------- run folders


def _scenario_name(summary: pd.DataFrame) -> str:
    """The scenario name in a summary table."""
    return str(summary["scenario"].iloc[0])


def plot_run_dir(run_dir: Path) -> list[Path]:
    """Redraw every figure of a run folder from its CSV tables.

    Reads ``survival.csv``, ``trajectories.csv`` and ``summary.csv`` in ``run_dir`` and
    writes the files named in :data:`RUN_PLOTS` next to them.

    Returns:
        Paths of the written PNG files, in the order of :data:`RUN_PLOTS`.

    Raises:
        PlotInputError: if a table is missing, unreadable, empty, lacks columns, holds a non-number
            where a number belongs, or has fewer days than its horizon.
    """
    run_dir = Path(run_dir)
    return [run_dir / name for name in draw(run_dir, RUN_PLOTS)]


def possible_figures(tables: Collection[str]) -> tuple[str, ...]:
    """The run figures a folder holding ``tables`` (file names) can be drawn into, in order."""
    return tuple(name for name in RUN_PLOTS if name != "trajectories.png" or "trajectories.csv" in tables)


def draw(folder: Path, figures: Sequence[str]) -> list[str]:
    """Draw the named figures of a run folder (among :data:`RUN_PLOTS`) into it from its tables.

    The figures module of ``ceasefire run`` (:func:`sim.outputs.plots.draw`); ``trajectories.csv`` is read
    only when ``trajectories.png`` is asked for.

    Returns:
        The file names written, in the order of :data:`RUN_PLOTS`.

    Raises:
        PlotInputError: a figure that is not a run figure, or a table missing or damaged.
    """
    folder = Path(folder)
    unknown = [name for name in figures if name not in RUN_PLOTS]
    if unknown:
        raise PlotInputError(f"{folder}: {unknown[0]}: not a figure of a run folder ({', '.join(RUN_PLOTS)})")
    survival, trajectories, summary = read_run_tables(folder, trajectories="trajectories.png" in figures)
    scenario = _scenario_name(summary)
    drawers = {
        "survival.png": lambda path: plot_survival(survival, scenario, path),
        "trajectories.png": lambda path: plot_trajectories(trajectories, scenario, path),
        "causes.png": lambda path: plot_causes(summary, path),
    }
    wanted = [name for name in RUN_PLOTS if name in figures]
    for name in wanted:
        _written(drawers[name](folder / name))
    return wanted


def _written(fig: Figure) -> None:
    """Free a figure already saved (figures hold reference cycles: without this they wait for the collector)."""
    fig.clear()


def unique_labels(names: Sequence[str], run_dirs: Sequence[Path]) -> list[str]:
    """Scenario names, qualified by folder name (then full path) where they repeat."""
    labels = list(names)
    for qualify in (lambda d: d.name, str):
        counts = Counter(labels)
        labels = [
            f"{name} ({qualify(d)})" if counts[label] > 1 else label
            for name, label, d in zip(names, labels, run_dirs, strict=True)
        ]
    return labels


def compare_dirs(run_dirs: Sequence[Path], out: Path, given_deal: bool = False) -> Path:
    """Overlay the survival curves of several run folders into one PNG, marked as ceasefire's.

    Each curve is labelled by its scenario name (from ``summary.csv``), disambiguated by
    the folder name when two runs share a scenario. The PNG carries ceasefire's mark
    (:func:`sim.outputs.ownership.mark_png`), so a later ``ceasefire compare --out`` may replace it, and
    appears whole or not at all.

    Args:
        run_dirs: run folders holding ``survival.csv`` and ``summary.csv``.
        out: PNG file to write (its folder is created if needed).
        given_deal: plot P(holding | deal) instead of P(holding) over all worlds.

    Returns:
        ``out``.
    """
    run_dirs = [Path(d) for d in run_dirs]
    pairs = [read_run_tables(d, trajectories=False) for d in run_dirs]
    tables = [survival for survival, _, _ in pairs]
    names = [_scenario_name(summary) for _, _, summary in pairs]
    labels = unique_labels(names, run_dirs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as tmp:
        _written(plot_compare(list(zip(labels, tables, strict=True)), tmp, given_deal=given_deal))
        tmp.write_bytes(mark_png(tmp.read_bytes()))
    return out


VALIDATION_COLUMNS: tuple[str, ...] = (
    "anchor", "empirical", "empirical_low", "empirical_high", "model", "model_ci_low", "model_ci_high", "scenario",
)


def plot_validation(table: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Each anchor's empirical figure (with its range) beside the model's (with its 95 % CI); saved to ``path``
    if given; returns the figure.

    Probabilities (values in [0, 1]) share one panel; counts (violations per day) get their own.
    """
    check_columns(table, VALIDATION_COLUMNS, "validation table")
    is_share = table["empirical"].le(1.0) & table["model"].fillna(0).le(1.0)
    groups = [("probability or share (given a deal)", table[is_share]),
              ("recorded violations per day", table[~is_share])]
    groups = [(label, rows) for label, rows in groups if len(rows)]
    heights = [max(1, len(rows)) for _, rows in groups]
    fig = Figure(figsize=(10.0, 1.2 + 0.55 * sum(heights)), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(groups), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, (label, rows) in zip(axes, groups, strict=True):
        y = np.arange(len(rows))[::-1]
        for offset, prefix, colour, name in ((0.15, "empirical", "0.25", "empirical record (range)"),
                                             (-0.15, "model", "tab:blue", "model (95% CI)")):
            low_col, high_col = (f"{prefix}_low", f"{prefix}_high") if prefix == "empirical" else (
                "model_ci_low", "model_ci_high")
            value = rows[prefix].to_numpy(float)
            low = rows[low_col].fillna(rows[prefix]).to_numpy(float)
            high = rows[high_col].fillna(rows[prefix]).to_numpy(float)
            ax.errorbar(value, y + offset, xerr=[value - low, high - value], fmt="o", color=colour, capsize=3,
                        label=name)
        ax.set_yticks(y, rows["anchor"].str.replace("_", " "))
        ax.set_ylim(-0.6, len(rows) - 0.4)
        right = np.nanmax(rows[["empirical", "empirical_high", "model", "model_ci_high"]].to_numpy(float))
        ax.set_xlim(0, 1 if right <= 1 else 1.1 * right)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
    fig.suptitle("Validation: the model beside the empirical record")
    return finish_figure(fig, path)
