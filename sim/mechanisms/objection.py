"""How Russia prices a Western military presence at the negotiating table (ODD eq. 20).

``presence`` is X = (troops in Ukraine + neighbour_objection_weight x troops on neighbouring NATO
soil) / troop_scale; ``presence_half`` is the presence mechanism's half-effect force in the same units.
The result is the log-odds of acceptance Russia loses, before the separate
price of permanent bases (``RU.bases_price``).
"""

from __future__ import annotations

import numpy as np

MECHANISM = "objection"
QUESTION = "How does Russia's objection to foreign troops grow with their number?"
DEFAULT = "saturating"
REASON = ("Russia's stated objection is to the principle of NATO troops in Ukraine (principled), yet a "
          "larger force is a larger threat; a saturating cost holds both and decides neither in advance. "
          "Version 3 retires the categorical form (any soldier costs the whole objection): a switch at the "
          "first soldier, which a handful of liaison officers cannot plausibly trigger.")


def linear(presence: np.ndarray, troop_objection: float, objection_scale: float,
           presence_half: float) -> np.ndarray:
    """Linear: every soldier costs the same, without bound (the first version's form)."""
    return troop_objection * np.asarray(presence, dtype=float)


def principled(presence: np.ndarray, troop_objection: float, objection_scale: float,
               presence_half: float) -> np.ndarray:
    """Principled: troop_objection x objection_scale x X / (X + presence_half), a red line reached by a brigade.

    Western troops are objected to in principle, so a brigade already costs half of the objection; a few
    liaison officers cost little."""
    presence = np.asarray(presence, dtype=float)
    return troop_objection * objection_scale * (presence / (presence + presence_half))


def saturating(presence: np.ndarray, troop_objection: float, objection_scale: float,
               presence_half: float) -> np.ndarray:
    """Saturating: linear for small forces, levelling off at troop_objection x objection_scale."""
    return troop_objection * objection_scale * -np.expm1(-np.asarray(presence, dtype=float) / objection_scale)


FORMS = {"linear": linear, "principled": principled, "saturating": saturating}
