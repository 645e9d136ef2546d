"""How much of a presence-dependent effect a force of a given size buys (ODD eq. 25).

Every term that rests on troops being there — the tripwire in Russia's expected cost, the stake a
guarantor's own soldiers give it, permanent bases, the principled objection — is multiplied by a
weight W(T) in [0, 1] of the troops T behind it. ``presence_half`` is the force that buys half of the
effect, in soldiers.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "presence"
QUESTION = "Does the first soldier buy the whole tripwire, or does the effect grow with the force?"
DEFAULT = "dose"
REASON = ("Reiter and Poast (2021): tripwires deter through the capability and casualties a force puts at risk, "
          "not through a symbolic first soldier; Schelling's tripwire still saturates, since a brigade already "
          "guarantees entry. A saturating dose per brigade holds both; a switch is kept as the second version's form.")


def switch(troops: np.ndarray, presence_half: float) -> np.ndarray:
    """Switch: the whole effect with the first soldier, none without (the second version's form)."""
    return (np.asarray(troops) > 0.0).astype(float)


def dose(troops: np.ndarray, presence_half: float) -> np.ndarray:
    """Dose: T / (T + presence_half), saturating; a brigade of presence_half soldiers buys half the effect."""
    troops = np.asarray(troops, dtype=float)
    return troops / (troops + presence_half)


FORMS = {"switch": switch, "dose": dose}
