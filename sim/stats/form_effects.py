"""Which mechanisms' forms move a headline: main effects fitted to the means of an ensemble's combinations.

A sample of combinations is not balanced (each form appears in a different subset), so averaging the combinations
that have a form mixes in the other mechanisms' forms. The fit holds them fixed: ordinary least squares of the
combination means on one indicator per non-reference form of each mechanism, plus an intercept, without
interactions. Each coefficient is the form's effect against its mechanism's reference form (the default form where
the sample holds it), with a standard error from the residual variance, which holds the interactions and the
Monte Carlo noise of the means, and a 95 % interval from Student's t with the fit's residual degrees of freedom.
``r_squared`` says how much of the spread the main effects explain. A fit needs more combinations than
coefficients (the intercept and every non-reference form present: 17 when every form of the twelve mechanisms is
in the sample); with fewer, the table has no rows for that output (:func:`coefficients`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

COLUMNS = ("output", "mechanism", "form", "reference", "effect", "se", "low", "high", "combinations_with_form",
           "combinations", "residual_df", "r_squared", "residual_sd")


def form_effects(combinations: pd.DataFrame, mechanisms: Sequence[str], outputs: Sequence[str],
                 reference: Mapping[str, str], forms: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Main effects of each form on each output, one row per (output, mechanism, non-reference form).

    Args:
        combinations: one row per combination, a column per mechanism (its form) and per output (its mean, 0-1;
            NaN where undefined, and then left out of that output's fit).
        mechanisms: the mechanisms' columns; one whose form is the same in every combination is not fitted.
        outputs: the outputs' columns.
        reference: mechanism -> the form to measure against, if the sample holds it (else the first form of
            ``forms`` that it holds).
        forms: mechanism -> its forms (names; a mapping keyed by them will do), in the order the table
            lists them.
    Returns:
        ``COLUMNS``; effects in the output's units (a difference of probabilities), ``low``/``high`` the 95 %
        t interval. Empty for an output whose fit has no residual degrees of freedom or is singular.
    """
    rows: list[dict[str, object]] = []
    for output in outputs:
        data = combinations[combinations[output].notna()]
        design, names = _design(data, mechanisms, reference, forms)
        y = data[output].to_numpy(dtype=float)
        n, p = design.shape
        if n <= p or np.linalg.matrix_rank(design) < p:
            continue
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        residuals = y - design @ beta
        variance = float(residuals @ residuals) / (n - p)
        se = np.sqrt(np.diag(variance * np.linalg.inv(design.T @ design)))
        total = float(((y - y.mean()) ** 2).sum())
        r_squared = 1.0 - float(residuals @ residuals) / total if total > 0.0 else float("nan")
        t_95 = float(stats.t.ppf(0.975, n - p))
        for j, (mechanism, form, base) in enumerate(names, start=1):
            effect = float(beta[j])
            rows.append({"output": output, "mechanism": mechanism, "form": form, "reference": base,
                         "effect": effect, "se": float(se[j]), "low": effect - t_95 * se[j],
                         "high": effect + t_95 * se[j],
                         "combinations_with_form": int((data[mechanism] == form).sum()), "combinations": n,
                         "residual_df": n - p, "r_squared": r_squared, "residual_sd": variance ** 0.5})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def coefficients(combinations: pd.DataFrame, mechanisms: Sequence[str], reference: Mapping[str, str],
                 forms: Mapping[str, Iterable[str]]) -> int:
    """How many coefficients the fit of these combinations has: it needs more combinations than that."""
    return _design(combinations, mechanisms, reference, forms)[0].shape[1]


def _design(data: pd.DataFrame, mechanisms: Sequence[str], reference: Mapping[str, str],
            forms: Mapping[str, Iterable[str]]) -> tuple[np.ndarray, list[tuple[str, str, str]]]:
    """The intercept and one indicator column per non-reference form present, and what each column is."""
    columns = [np.ones(len(data))]
    names: list[tuple[str, str, str]] = []
    for mechanism in mechanisms:
        present = [form for form in forms[mechanism] if (data[mechanism] == form).any()]
        if len(present) < 2:
            continue
        base = reference[mechanism] if reference[mechanism] in present else present[0]
        for form in present:
            if form != base:
                columns.append((data[mechanism] == form).to_numpy(dtype=float))
                names.append((mechanism, form, base))
    return np.column_stack(columns), names
