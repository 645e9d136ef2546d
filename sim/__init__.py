"""ceasefire: would a ceasefire in Ukraine, guaranteed by European troops and monitored by the US, hold?

An agent-based model (Mesa) of six states stepping a batch of independent worlds as numpy arrays.
The public API, in the order data flows:

- ``load_scenario`` (YAML -> validated ``Scenario``),
- ``CeasefireModel`` (the Mesa model), ``run_scenario`` (worlds -> tables, ``RunResult``),
- ``save_run`` (tables -> CSV, manifest and plots), ``plot_run_dir`` / ``compare_dirs`` (CSV -> plots).
"""

from importlib import import_module
from typing import Any

# Names are imported on first use, so that a worker process (or `ceasefire --help`) does not pay
# for matplotlib and pandas before it needs them.
_EXPORTS = {
    "CeasefireModel": "sim.model",
    "InputError": "sim.errors",
    "RunResult": "sim.runner",
    "Scenario": "sim.scenario",
    "compare_dirs": "sim.plots",
    "load_scenario": "sim.scenario",
    "plot_run_dir": "sim.plots",
    "run_scenario": "sim.runner",
    "save_run": "sim.api",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


__all__ = [
    "CeasefireModel",
    "InputError",
    "RunResult",
    "Scenario",
    "compare_dirs",
    "load_scenario",
    "plot_run_dir",
    "run_scenario",
    "save_run",
]

__version__ = "0.1.0"
