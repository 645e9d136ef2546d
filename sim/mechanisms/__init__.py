"""The contested mechanisms of the model, each with its rival functional forms side by side.

One module per mechanism; each holds every form as a small pure function over numpy arrays (or
scalars), with its source and its ODD equation number. :data:`REGISTRY` maps
``mechanism -> form -> function``; the scenario's ``structure:`` block is validated against it,
``ceasefire structures`` prints it, and the model calls whichever form the scenario names
without branching on form names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.mechanisms import acceptance, capability, credibility, escalation, objection


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
    for module in (objection, capability, credibility, escalation, acceptance)
}
"""Every contested mechanism, by name, in the order the ODD presents them."""

REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {name: m.forms for name, m in MECHANISMS.items()}
"""``{mechanism: {form: function}}``."""

DEFAULT_STRUCTURE: dict[str, str] = {name: m.default for name, m in MECHANISMS.items()}
"""The best-argued form of each mechanism (reasons in docs/ODD.md, section 7.2)."""

LEGACY_STRUCTURE: dict[str, str] = {
    "objection": "linear", "capability": "absolute", "credibility": "reputation",
    "escalation": "threshold", "acceptance": "independent",
}
"""The forms of the first version of the model (see ``scenarios/legacy_v1.yaml`` for the parameters)."""


def form(mechanism: str, name: str) -> Callable[..., Any]:
    """The function of one form; KeyError if either name is unknown."""
    return REGISTRY[mechanism][name]
