"""Where the coalition's ground troops stand, and so how many incidents they prevent (ODD eq. 5).

The result is the share of the front the troops leave uncovered, 1 - cover; the cover removes incidents
up to the cap ``buffer_incident_reduction``:
``incidents = incident_rate x (1 - buffer_incident_reduction x cover) x (1 - monitoring ...)``.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "deployment"
QUESTION = "Do the coalition's troops stand on the contact line as a buffer, or in the rear as reassurance?"
DEFAULT = "rear"
REASON = ("The coalition describes a 'reassurance force' away from the line of contact that regenerates "
          "Ukraine's army, with the line watched by the US-led monitoring mechanism (the article: the US leads "
          "'un mécanisme de surveillance et de vérification'); troops in the rear prevent no incidents on a "
          "front of about 1,200 km. Interposition per km of front (Fortna 2008, UN buffer missions) is the "
          "rival; the second version's blanket cover is kept.")


def rear(troops: np.ndarray, troop_scale: float, front_km: float, buffer_density: float) -> np.ndarray:
    """Rear: stationed away from the line; no incident is prevented by their presence."""
    return np.ones(np.shape(troops))


def interposition(troops: np.ndarray, troop_scale: float, front_km: float, buffer_density: float) -> np.ndarray:
    """Interposition: cover 1 - exp(-(T / front_km) / buffer_density), troops spread along the front."""
    return np.exp(-(np.asarray(troops, dtype=float) / front_km) / buffer_density)


def blanket(troops: np.ndarray, troop_scale: float, front_km: float, buffer_density: float) -> np.ndarray:
    """Blanket: cover 1 - exp(-T / troop_scale), whatever the front's length (the second version's form).

    The exponential is taken in single precision, as the second version did."""
    exponent = np.asarray(np.asarray(troops, dtype=float) * (-1.0 / troop_scale), dtype=np.float32)
    return np.exp(exponent).astype(float)


FORMS = {"rear": rear, "interposition": interposition, "blanket": blanket}
