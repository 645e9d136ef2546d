"""How escalation ends a ceasefire: the daily probability of a spiral into war (ODD eq. 13).

``level`` is the escalation E (>= 0), which responses, retaliation and unhandled violations raise
and which decays.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "escalation"
QUESTION = "Does escalation end a ceasefire at a sharp threshold or through a hazard that rises with it?"
DEFAULT = "smooth"
REASON = ("Flare-ups under Minsk II rose and subsided for seven years without a collapse (OSCE SMM); a "
          "deterministic cliff makes the outcome hinge on one assumed number, a smooth hazard does not.")


def threshold(level: np.ndarray, escalation_threshold: float, spiral_hazard: float,
              spiral_slope: float) -> np.ndarray:
    """Threshold: the ceasefire collapses as soon as escalation exceeds the threshold (the first version's form)."""
    return (np.asarray(level) > escalation_threshold).astype(float)


def smooth(level: np.ndarray, escalation_threshold: float, spiral_hazard: float,
           spiral_slope: float) -> np.ndarray:
    """Smooth: daily hazard spiral_hazard x exp(spiral_slope x (E - threshold)), at most 1.

    The exponential is taken in single precision (relative error about 1e-7 x |exponent|, immaterial for a
    probability that meets a random draw; several times faster than double precision without AVX-512).
    """
    exponent = np.minimum(spiral_slope * (np.asarray(level, dtype=float) - escalation_threshold), 50.0)
    return np.minimum(1.0, spiral_hazard * np.exp(exponent.astype(np.float32)).astype(float))


FORMS = {"threshold": threshold, "smooth": smooth}
