"""Whether Ukraine accepts the ceasefire as offered: its probability of acceptance in one round (ODD eq. 3).

Every form reads one :class:`UkraineInputs`; ``guarantee`` is the strength of the guarantee package as
Ukraine perceives it (ODD 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.numeric import logistic

MECHANISM = "ukraine"
QUESTION = "Does Ukraine sign only for a strong guarantee, or does it weigh the deal against fighting on?"
DEFAULT = "terms"
REASON = ("Both Minsk deals were signed without guarantees, under military pressure and on terms that favoured "
          "Russia (Allan 2020; Wittke 2019): Ukraine compares the deal with fighting on, as Russia does "
          "(Fearon 1995). A threshold on the guarantee alone is kept as the second version's form.")


@dataclass(frozen=True)
class UkraineInputs:
    """What Ukraine weighs (log-odds unless stated)."""

    guarantee: np.ndarray  # guarantee strength, 0-1
    threshold: np.ndarray | float  # guarantee strength that, alone, makes Ukraine indifferent
    sharpness: np.ndarray | float  # width of the acceptance curve in guarantee units, > 0
    war_cost: np.ndarray | float  # what fighting on costs Ukraine
    situation: np.ndarray | float  # situation_weight x log(Russian / Ukrainian forces in a year)
    terms_cost: np.ndarray | float  # what the deal's terms cost Ukraine


def guarantee(x: UkraineInputs) -> np.ndarray:
    """Guarantee: logistic((guarantee - threshold) / sharpness), nothing else (the second version's form)."""
    return logistic((x.guarantee - x.threshold) / x.sharpness)


def terms(x: UkraineInputs) -> np.ndarray:
    """Terms: logistic((guarantee - threshold) / sharpness + war cost + military situation - cost of the terms)."""
    return logistic((x.guarantee - x.threshold) / x.sharpness + x.war_cost + x.situation - x.terms_cost)


FORMS = {"guarantee": guarantee, "terms": terms}
