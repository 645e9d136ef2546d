"""Small elementwise functions that several layers share."""

from __future__ import annotations

import numpy as np


def logistic(x: np.ndarray | float) -> np.ndarray:
    """The standard logistic function, elementwise."""
    # clipped so that extreme log-odds give 0 or 1 without overflow warnings
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=float), -500.0, 500.0)))
