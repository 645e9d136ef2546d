"""What wears out the US's patience with monitoring (ODD eq. 19).

The form returns the violations the US counts today against its ``violation_tolerance``, from the
violations it detected and its own detection probability.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "impatience"
QUESTION = "Does better detection make the US give up sooner, or does it judge the violence it knows is there?"
DEFAULT = "estimated"
REASON = ("A monitor that knows its own detection rate judges the level of violence, not its count of "
          "sightings: the OSCE SMM reported violations with caveats on its coverage (OSCE SMM 2015-2021). "
          "Counting detections makes better detection end monitoring sooner, a perverse effect kept as the "
          "second version's form.")


def detected(detected_violations: np.ndarray, detection_probability: np.ndarray) -> np.ndarray:
    """Detected: the violations the US saw (the second version's form)."""
    return detected_violations


def estimated(detected_violations: np.ndarray, detection_probability: np.ndarray) -> np.ndarray:
    """Estimated: detected violations / detection probability, the US's estimate of all of them."""
    detection_probability = np.asarray(detection_probability, dtype=float)
    return np.divide(detected_violations, detection_probability,
                     out=np.zeros(np.shape(detection_probability)), where=detection_probability > 0.0)


FORMS = {"detected": detected, "estimated": estimated}
