"""The contested mechanisms of the model, each with its rival functional forms side by side.

One module per mechanism; each holds every form as a small pure function over numpy arrays (or
scalars), with its source and its ODD equation number. :data:`REGISTRY` maps
``mechanism -> form -> function``; the scenario's ``structure:`` block is validated against it,
``ceasefire structures`` prints it, and the model calls whichever form the scenario names
without branching on form names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.mechanisms import (
    acceptance,
    capability,
    credibility,
    deployment,
    duration,
    escalation,
    impatience,
    objection,
    offensive,
    presence,
    types,
    ukraine,
)


@dataclass(frozen=True)
class Mechanism:
    """A contested mechanism: its forms, the default one, and what it decides."""

    name: str
    question: str
    forms: dict[str, Callable[..., Any]]
    default: str
    reason: str

    def describe(self, form: str) -> str:
        """The first line of the form's docstring: a one-line description."""
        doc = self.forms[form].__doc__ or ""
        return doc.strip().splitlines()[0] if doc.strip() else form


MECHANISMS: dict[str, Mechanism] = {
    module.MECHANISM: Mechanism(module.MECHANISM, module.QUESTION, module.FORMS, module.DEFAULT, module.REASON)
    for module in (objection, capability, credibility, escalation, acceptance,
                   presence, deployment, types, offensive, duration, ukraine, impatience)
}
"""Every contested mechanism, by name, in the order the ODD presents them."""

REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {name: m.forms for name, m in MECHANISMS.items()}
"""``{mechanism: {form: function}}``."""

DEFAULT_STRUCTURE: dict[str, str] = {name: m.default for name, m in MECHANISMS.items()}
"""The best-argued form of each mechanism (reasons in docs/ODD.md, section 7.2)."""

V2_STRUCTURE: dict[str, str] = {
    "objection": "saturating", "capability": "relative", "credibility": "both", "escalation": "smooth",
    "acceptance": "bargaining", "presence": "switch", "deployment": "blanket", "types": "gamma",
    "offensive": "hazard", "duration": "constant", "ukraine": "guarantee", "impatience": "detected",
}
"""The forms of the second version of the model (``scenarios/legacy_v2.yaml`` adds its parameters)."""

LEGACY_STRUCTURE: dict[str, str] = {
    **V2_STRUCTURE,
    "objection": "linear", "capability": "absolute", "credibility": "reputation",
    "escalation": "threshold", "acceptance": "independent",
}
"""The forms of the first version of the model (see ``scenarios/legacy_v1.yaml`` for the parameters): the
second version's forms of the mechanisms added since."""


def form(mechanism: str, name: str) -> Callable[..., Any]:
    """The function of one form; KeyError if either name is unknown."""
    return REGISTRY[mechanism][name]


class MixedForm:
    """Several forms of one mechanism in one batch of worlds, each world in its own: a mask.

    Every form present is computed for every world, then each world's value is taken from its own form.
    The forms are elementwise and return float64, so a world gets bit for bit the value its form gives
    when its point runs alone (``tests/test_packing.py``). Each world's form (its index in ``forms``) is
    read from ``form_index[mechanism]`` at each call, since the model compacts its per-world arrays.
    """

    def __init__(self, forms: Sequence[Callable[..., Any]], form_index: Mapping[str, np.ndarray],
                 mechanism: str) -> None:
        self.forms = tuple(forms)
        self._form_index = form_index
        self._mechanism = mechanism

    def __call__(self, *args: Any) -> np.ndarray:
        index = self._form_index[self._mechanism]
        first, *others = self.forms
        out = np.array(np.broadcast_to(first(*args), index.shape), dtype=np.float64)
        # one masked put per other form: np.choose, or np.copyto with where=, costs 4-10 times as much here
        for number, form in enumerate(others, start=1):
            np.putmask(out, index == number, np.broadcast_to(form(*args), index.shape))
        return out
