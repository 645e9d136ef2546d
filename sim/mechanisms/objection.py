"""How Russia prices a Western military presence at the negotiating table (ODD eq. 20).

``presence`` is X = (troops in Ukraine + neighbour_objection_weight x troops on neighbouring NATO
soil) / troop_scale. The result is the log-odds of acceptance Russia loses, before the separate
price of permanent bases (``RU.bases_price``).
"""

from __future__ import annotations

import numpy as np

MECHANISM = "objection"
QUESTION = "How does Russia's objection to foreign troops grow with their number?"
DEFAULT = "saturating"
REASON = ("Russia's stated objection is to the principle of NATO troops in Ukraine (categorical), yet a "
          "larger force is a larger threat; a saturating cost holds both and decides neither in advance.")


def linear(presence: np.ndarray, troop_objection: float, objection_scale: float) -> np.ndarray:
    """Linear: every soldier costs the same, without bound (the first version's form)."""
    return troop_objection * np.asarray(presence, dtype=float)


def categorical(presence: np.ndarray, troop_objection: float, objection_scale: float) -> np.ndarray:
    """Categorical: any presence at all costs troop_objection x objection_scale; its size does not matter."""
    return troop_objection * objection_scale * (np.asarray(presence, dtype=float) > 0.0)


def saturating(presence: np.ndarray, troop_objection: float, objection_scale: float) -> np.ndarray:
    """Saturating: linear for small forces, levelling off at troop_objection x objection_scale."""
    return troop_objection * objection_scale * -np.expm1(-np.asarray(presence, dtype=float) / objection_scale)


FORMS = {"linear": linear, "categorical": categorical, "saturating": saturating}
