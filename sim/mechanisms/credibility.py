"""Russia's belief that the guarantors would fight if it attacked (ODD eq. 11, 21).

``reputation`` is the mean of Russia's Beta belief learned from answered and unanswered probes;
``commitment`` is 1 - prod(1 - pi_g), the chance that at least one guarantor enters the war, where
pi_g rests on its resolve, its support at home and the commitment its presence creates.
"""

from __future__ import annotations

import numpy as np

MECHANISM = "credibility"
QUESTION = "Where does Russia's belief that the guarantee will be honoured come from?"
DEFAULT = "both"
REASON = ("Press (2005): adversaries judge credibility by the defender's current interests and power; "
          "Mercer (1996) doubts reputations transfer; Schelling (1966) and Fearon (1994): presence and public "
          "commitments create them. Probes still reveal something, so both, weighted towards commitment.")


def reputation(reputation: np.ndarray, commitment: np.ndarray, commitment_share: float) -> np.ndarray:
    """Reputation: learned only from how probes were answered (the first version's form)."""
    return reputation


def commitment(reputation: np.ndarray, commitment: np.ndarray, commitment_share: float) -> np.ndarray:
    """Commitment: the guarantors' resolve, support and the stakes their troops and bases create."""
    return commitment


def both(reputation: np.ndarray, commitment: np.ndarray, commitment_share: float) -> np.ndarray:
    """Both: commitment_share x commitment + (1 - commitment_share) x reputation."""
    return commitment_share * commitment + (1.0 - commitment_share) * reputation


def guarantor_commitment(resolve: np.ndarray, support_ratio: np.ndarray, presence: np.ndarray,
                         bases: np.ndarray | float, neighbour_only: np.ndarray, presence_stake: float,
                         bases_stake: float, neighbour_stake: float) -> np.ndarray:
    """pi_g: probability that one guarantor would enter a war, 0-1 (ODD eq. 21).

    resolve x min(1, stakes) x min(1, support / initial support); the stakes are presence_stake times the
    presence weight of its troops in Ukraine (0-1, ODD 25: a tripwire that grows with the force),
    bases_stake times the weight of permanent bases, neighbour_stake for troops on neighbouring NATO soil only.
    """
    stakes = presence_stake * presence + bases_stake * bases + neighbour_stake * neighbour_only
    return resolve * np.minimum(stakes, 1.0) * np.minimum(support_ratio, 1.0)


FORMS = {"reputation": reputation, "commitment": commitment, "both": both}
