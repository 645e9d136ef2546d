"""What the coalition's forces are worth as deterrence by denial (ODD eq. 1).

``ground`` is the guarantors' effective ground troops F (troops in Ukraine plus Germany's
neighbouring troops at ``neighbour_weight``); ``air_maritime`` is A, the air and maritime roles;
``russian_troops`` is R_t, Russia's forces in the zone on the day (after rearmament).
"""

from __future__ import annotations

import numpy as np

MECHANISM = "capability"
QUESTION = "Does the coalition deter by its absolute size or by how far it shifts the local balance?"
DEFAULT = "relative"
REASON = ("Reiter and Poast (2021) and Huth (1988): denial depends on the local balance of forces, so a "
          "force of 20,000 beside some 700,000 Russian troops weighs little, and Russian rearmament erodes it.")


def absolute(ground: np.ndarray, air_maritime: np.ndarray, troop_scale: float, balance_unit: float,
             russian_troops: float) -> np.ndarray:
    """Absolute: ground troops per troop_scale, plus air and maritime roles (the first version's form)."""
    return ground / troop_scale + air_maritime


def relative(ground: np.ndarray, air_maritime: np.ndarray, troop_scale: float, balance_unit: float,
             russian_troops: float | np.ndarray) -> np.ndarray:
    """Relative: ground troops as a share of Russia's forces in the zone, per balance_unit, plus air and maritime."""
    if isinstance(russian_troops, np.ndarray):  # Russia rearms at a rate that differs between worlds
        with np.errstate(divide="ignore", invalid="ignore"):  # worlds without Russian troops take the other branch
            relative_share = ground / (balance_unit * russian_troops)
        return np.where(russian_troops > 0.0, relative_share, ground / troop_scale) + air_maritime
    if russian_troops <= 0.0:
        return ground / troop_scale + air_maritime
    return ground / (balance_unit * russian_troops) + air_maritime


FORMS = {"absolute": absolute, "relative": relative}
