"""Duration dependence: how the daily hazards of breakdown change with the time a ceasefire has held
(ODD eq. 26).

``institution`` is the stock I in [0, 1] of what holding builds — joint commissions, separated forces,
stakes in peace — which grows towards 1 with time constant ``institution_days`` and erodes with
escalation (the model updates it daily). The form returns the factor that multiplies the daily hazards
of a major offensive and of an escalation spiral.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "duration"
QUESTION = "Does a ceasefire grow safer the longer it holds?"
DEFAULT = "institutionalisation"
REASON = ("Fortna (2004, 2008) and Werner (1999): ceasefires are most fragile in their first months and the "
          "hazard falls steeply as agreements are implemented, forces separate and the costs of reopening the "
          "war rise; Fortna's spell-level record falls from about 0.6 failures a year in the first quarter "
          "to about 0.02 in years 6-10. A constant hazard is kept as the second version's form.")


def constant(institution: np.ndarray, institution_effect: float) -> np.ndarray:
    """Constant: time held changes nothing (the second version's form)."""
    return np.ones(np.shape(institution))


def institutionalisation(institution: np.ndarray, institution_effect: float) -> np.ndarray:
    """Institutionalisation: hazards times exp(-institution_effect x I), I the stock that holding builds."""
    return np.exp(-institution_effect * np.asarray(institution, dtype=float))


FORMS = {"constant": constant, "institutionalisation": institutionalisation}
