"""Whether Russia accepts the ceasefire as offered: its log-odds of acceptance in one round (ODD eq. 3).

``base`` is acceptance_logit + war_cost + pressure_weight x US resolve - objection - bases_price x
bases; ``intent`` is Russia's type (mean 1); ``expected_cost`` is K0, the expected cost of a later
offensive under the guarantee as offered.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "acceptance"
QUESTION = "Does Russia weigh the ceasefire against fighting on, and does its type decide who agrees?"
DEFAULT = "resolute"
REASON = ("Fearon (1995): each side compares the expected value of fighting with the deal on offer; "
          "a credible, capable guarantee lowers the expected gains of war, and hawkish types refuse more "
          "often, so who agrees is selected; Russia's resolve, its will to bear the war's costs, scales what "
          "it expects of fighting on (version 3).")


def independent(base: np.ndarray, intent: np.ndarray, expected_cost: np.ndarray, table_gain: float,
                resolve: float) -> np.ndarray:
    """Independent: a coin flip on fixed log-odds; neither deterrence nor Russia's type enters (first version)."""
    return np.broadcast_to(np.asarray(base, dtype=float), np.shape(intent)).copy()


def bargaining(base: np.ndarray, intent: np.ndarray, expected_cost: np.ndarray, table_gain: float,
               resolve: float) -> np.ndarray:
    """Bargaining: minus the expected gain of fighting on, table_gain x intent x exp(-K0) (second version).

    Russia's resolve does not enter."""
    return base - table_gain * np.asarray(intent, dtype=float) * np.exp(-np.asarray(expected_cost, dtype=float))


def resolute(base: np.ndarray, intent: np.ndarray, expected_cost: np.ndarray, table_gain: float,
             resolve: float) -> np.ndarray:
    """Resolute: minus table_gain x intent x resolve x exp(-K0): a more resolved Russia expects more of war."""
    gain = table_gain * np.asarray(intent, dtype=float) * resolve
    return base - gain * np.exp(-np.asarray(expected_cost, dtype=float))


FORMS = {"independent": independent, "bargaining": bargaining, "resolute": resolute}
