"""Whether Russia resumes the war on a given day: the daily probability of a major offensive (ODD eq. 16, 27).

Every form reads one :class:`OffensiveInputs`, each field a number or one value per stepped world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MECHANISM = "offensive"
QUESTION = "Is a renewed offensive a random hazard that deterrence lowers, or a choice Russia makes and times?"
DEFAULT = "choice"
REASON = ("Fearon (1995) and Powell (2006): war resumes when a side expects more from fighting than from the "
          "deal, net of its costs; Van Evera (1999) and Levy (1987): it times attacks to windows of "
          "opportunity that it can foresee. A choice weighs gain, costs, credibility and capability and the "
          "value of waiting; the second version's hazard, scaled by a heavy-tailed intent, is kept as a rival.")


@dataclass(frozen=True)
class OffensiveInputs:
    """What Russia weighs today (all in log-odds or log-hazard units unless stated)."""

    intent: np.ndarray  # Russia's type, mean 1 (sim.mechanisms.types)
    drive: np.ndarray | float  # hazard form: offensive_gain x resolve x share + power shift (ODD 16)
    value: np.ndarray | float  # choice form: offensive_value x resolve x share, before intent
    shift: np.ndarray | float  # choice form: power_shift_weight x log(force ratio / day-0 ratio)
    hostility: np.ndarray  # hostility the presence provokes (ODD 7)
    expected_cost: np.ndarray  # K (ODD 16)
    escalation_push: np.ndarray  # escalation_hazard_weight x E
    waiting: np.ndarray | float  # value of waiting for a foreseen window (ODD 27); 0 if none
    log_base: np.ndarray | float | None  # log(base_offensive_hazard), None where it is 0 everywhere
    ceiling: np.ndarray | float  # choice form: most decisions to attack a day, 0-1
    noise: np.ndarray | float  # choice form: scale of the logistic noise in Russia's comparison, > 0
    resumption_cost: np.ndarray | float  # choice form: fixed cost of reopening the war, log-odds


def hazard(x: OffensiveInputs) -> np.ndarray:
    """Hazard: intent x exp(log base + drive + hostility - K + escalation), at most 1 (the second version's form)."""
    if x.log_base is None:
        return np.zeros(np.shape(x.intent))
    log_hazard = (x.log_base + x.drive) + x.hostility - x.expected_cost + x.escalation_push
    # capped before exp: a huge escalation must give hazard 1, not an overflow (or 0 x inf for zero intent)
    exponent = np.asarray(np.minimum(log_hazard, 50.0), dtype=np.float32)
    return np.minimum(1.0, x.intent * np.exp(exponent).astype(float))


def choice(x: OffensiveInputs) -> np.ndarray:
    """Choice: ceiling x logistic(U / noise): Russia attacks when fighting now beats the deal and waiting.

    U = intent x value + shift + hostility + escalation - K - resumption cost - waiting."""
    utility = x.intent * x.value + x.shift + x.hostility + x.escalation_push - x.expected_cost \
        - x.resumption_cost - x.waiting
    z = np.asarray(np.clip(utility / x.noise, -50.0, 50.0), dtype=np.float32)
    return x.ceiling / (1.0 + np.exp(-z).astype(float))


FORMS = {"hazard": hazard, "choice": choice}
