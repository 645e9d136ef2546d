"""The validity flags of a run's headlines: is each within what the empirical record covers?

A headline is flagged when it reaches past the record's horizon (``beyond_record_horizon``), when the run uses a
structural form the held-out record rejects (``structure_rejected:<mechanism>=<form>``), or when the run uses the
default structure and the held-out record rejects it (``default_rejected:<key>``, one flag per failed test);
otherwise it is ``within_record``. What the record covers is ``seeds/validity.yaml``
(:mod:`sim.spec.validity`); structures the record cannot tell apart from the default are not flagged.

The flags are a short parseable string, semicolon-separated (:attr:`Validity.code`, :func:`parse_validity`),
with a sentence in plain words beside it (:attr:`Validity.note`). ``summary.csv`` carries both for the run's
headlines (:func:`validity_columns`): every headline of a run shares its structure, and the only one that can
pass the record's horizon is P(holding at the horizon) (the fixed days of ``summary.csv`` end at 3,650).

Example::

    from sim.stats.validity import run_validity
    run_validity(4000, {"escalation": "threshold"}).code
    # 'beyond_record_horizon;structure_rejected:escalation=threshold'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.spec.validity import DEFAULT, Coverage, Rejection, bundled_coverage

WITHIN = "within_record"
"""The code of a headline no flag applies to."""
BEYOND = "beyond_record_horizon"
"""The flag of a headline whose day is past the record's horizon."""
SEPARATOR = ";"
VALIDITY_COLUMNS: tuple[str, ...] = ("validity", "validity_note")
"""The columns :func:`validity_columns` adds to ``summary.csv``."""
SOURCE = "docs/VALIDATION.md"


@dataclass(frozen=True)
class Validity:
    """The flags of one headline (or of every headline of a run) and what they mean.

    Attributes:
        flags: ``beyond_record_horizon``, ``structure_rejected:…``, ``default_rejected:…``; empty when within.
        note: one paragraph in plain words.
        rejections: the entries of ``seeds/validity.yaml`` behind the structure flags, in the file's order.
        days: the day the headline reaches (the run's horizon).
        record_horizon_days: how far the record reaches.
    """

    flags: tuple[str, ...]
    note: str
    rejections: tuple[Rejection, ...]
    days: int
    record_horizon_days: int

    @property
    def code(self) -> str:
        """The flags joined by ``;``, or ``within_record``."""
        return SEPARATOR.join(self.flags) or WITHIN

    @property
    def within(self) -> bool:
        return not self.flags

    @property
    def beyond(self) -> bool:
        return BEYOND in self.flags

    def details(self) -> list[str]:
        """One sentence per structure flag: the test failed, what was found, its p-value and where it is shown."""
        return [_detail(entry) for entry in self.rejections]


def headline_validity(days: int, structure: Any, coverage: Coverage | None = None,
                      label: str = "this headline") -> Validity:
    """The flags of a headline at ``days`` of a run of ``structure``.

    Args:
        days: the day the headline reaches (P(holding at d days): d; the run's horizon for its last one).
        structure: the run's ``Structure``, or a mapping mechanism -> form (forms not given are the default).
        coverage: what the record covers; the bundled ``seeds/validity.yaml`` if None.
        label: how the note names the headline.
    """
    coverage = coverage or bundled_coverage()
    rejections = coverage.matching(structure)
    beyond = days > coverage.record_horizon_days
    flags = ((BEYOND,) if beyond else ()) + tuple(entry.flag for entry in rejections)
    return Validity(flags, _note(days, beyond, rejections, coverage, label), rejections, days,
                    coverage.record_horizon_days)


def run_validity(horizon_days: int, structure: Any, coverage: Coverage | None = None) -> Validity:
    """The flags of a run's headlines: those of its last one, P(holding at the horizon)."""
    return headline_validity(horizon_days, structure, coverage, label=f"P(holding at the horizon, {horizon_days:,} "
                                                                      "days)")


def validity_columns(horizon_days: int, structure: Any, coverage: Coverage | None = None) -> dict[str, str]:
    """``{"validity": code, "validity_note": sentence}`` for ``summary.csv`` (appended after its other columns)."""
    found = run_validity(horizon_days, structure, coverage)
    return {"validity": found.code, "validity_note": found.note}


def parse_validity(code: str) -> tuple[str, ...]:
    """The flags of a ``validity`` string (empty for ``within_record``)."""
    flags = tuple(part.strip() for part in str(code).split(SEPARATOR) if part.strip())
    return tuple(flag for flag in flags if flag != WITHIN)


def in_words(flags: tuple[str, ...] | list[str]) -> str:
    """The flags in a few plain words: ``"within what the record covers"``, or e.g. ``"P(holding at the
    horizon) beyond the record's horizon; the default structure fails 6 held-out tests"``."""
    words = []
    if BEYOND in flags:
        words.append("P(holding at the horizon) beyond the record's horizon")
    for flag in flags:
        if flag.startswith("structure_rejected:"):
            words.append(f"{flag.partition(':')[2].replace('=', ' = ')} rejected by the held-out record")
    failed = sum(flag.startswith("default_rejected:") for flag in flags)
    if failed:
        words.append(f"the default structure fails {failed} held-out test{'s' if failed > 1 else ''}")
    return "; ".join(words) or "within what the record covers"


def structure_of(document: Mapping[str, Any]) -> dict[str, str]:
    """The structure recorded in a manifest's scenario (``{}`` when absent: the default)."""
    found = document.get("structure") if isinstance(document, Mapping) else None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def _note(days: int, beyond: bool, rejections: tuple[Rejection, ...], coverage: Coverage, label: str) -> str:
    parts = []
    if beyond:
        parts.append(f"{_capital(label)} is beyond what the record can check: it covers "
                     f"{coverage.record_horizon_days:,} days ({coverage.record}).")
    defaults = [e for e in rejections if e.mechanism == DEFAULT]
    forms = [e for e in rejections if e.mechanism != DEFAULT]
    if forms:
        parts.append("The held-out record rejects "
                     + "; ".join(f"{e.mechanism} = {e.form} ({e.variant or 'a variant'}, p {e.p_value:.3f})"
                                 for e in forms) + ".")
    if defaults:
        tests = [e for e in defaults if e.against is None]
        against = [e for e in defaults if e.against is not None]
        words = []
        if tests:
            words.append("fails held-out tests of the record: " + ", ".join(f"{e.key} (p {e.p_value:.3f})"
                                                                            for e in tests))
        if against:
            words.append("the held-out record prefers " + " and ".join(f"{e.against} (p {e.p_value:.3f})"
                                                                       for e in against) + " to it")
        parts.append("The default structure " + "; ".join(words) + ".")
    if not parts:
        parts.append(f"Within what the record covers: {days:,} days, inside its {coverage.record_horizon_days:,}, "
                     "and the held-out record rejects none of this run's structural forms (not a confirmation).")
    elif not beyond:
        parts.insert(0, f"Within the record's {coverage.record_horizon_days:,} days.")
    parts.append(f"As of {coverage.as_of}, alpha {coverage.alpha:g}; {SOURCE}.")
    return " ".join(parts)


def _detail(entry: Rejection) -> str:
    what = (f"the default structure is rejected against {entry.against}" if entry.against
            else "the default structure fails" if entry.mechanism == DEFAULT
            else f"{entry.mechanism} = {entry.form} is rejected ({entry.variant or 'a variant'})")
    return (f"{what} (p {entry.p_value:.3f}; {entry.test}; held out: {', '.join(entry.held_out)}): "
            f"{entry.finding}. Source: {entry.source}.")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
