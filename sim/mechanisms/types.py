"""Russia's type: how strongly each world's Russia wants to resume the war (ODD eq. 4).

Each world draws ``intent`` once from a uniform ``u``; ``gamma_draw`` is the Gamma quantile of ``u``
with mean 1 and variance ``intent_variance`` (``sim.engine.streams.gamma_quantile``). The mean is 1 in
every form, so that the other parameters keep their meaning. Intent scales the gains Russia expects from
fighting, at the table and afterwards.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "types"
QUESTION = "Is Russia's resolve spread thinly over a continuum, or are there a few distinct types?"
DEFAULT = "two_types"
REASON = ("Kydd (2005) and Fearon (1995) model adversaries as a few types whose private resolve the other side "
          "must learn; a referee's plausible prior for Russia is a limited-aims majority and a revisionist "
          "minority that wants more of Ukraine. A Gamma with large variance puts a quarter of worlds at "
          "almost no intent, which no reading of Russia supports; it is kept as the second version's form.")


def gamma(u: np.ndarray, gamma_draw: np.ndarray, hawk_share: float, hawk_ratio: float) -> np.ndarray:
    """Gamma: mean 1, variance intent_variance (the second version's form)."""
    return np.asarray(gamma_draw, dtype=float)


def two_types(u: np.ndarray, gamma_draw: np.ndarray, hawk_share: float, hawk_ratio: float) -> np.ndarray:
    """Two types: a share hawk_share of revisionist worlds with hawk_ratio times the intent of the others."""
    u = np.asarray(u, dtype=float)
    limited = 1.0 / (1.0 + hawk_share * (hawk_ratio - 1.0))
    return np.where(u < hawk_share, hawk_ratio * limited, limited)


FORMS = {"gamma": gamma, "two_types": two_types}
