"""ceasefire: would a ceasefire in Ukraine, guaranteed by European troops and monitored by the US, hold?

An agent-based model (Mesa) of six states stepping a batch of independent worlds as numpy arrays.
The public API, in the order data flows:

- ``load_scenario`` (YAML -> validated ``Scenario``),
- ``CeasefireModel`` (the Mesa model), ``run_scenario`` (worlds -> tables, ``RunResult``),
- ``save_run`` (tables -> CSV, manifest and plots), ``plot_run_dir`` / ``compare_dirs`` (CSV -> plots).
"""

from sim.api import save_run
from sim.errors import InputError
from sim.model import CeasefireModel
from sim.plots import compare_dirs, plot_run_dir
from sim.runner import RunResult, run_scenario
from sim.scenario import Scenario, load_scenario

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
