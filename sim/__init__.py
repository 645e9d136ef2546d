"""ceasefire: would a ceasefire in Ukraine, guaranteed by European troops and monitored by the US, hold?

An agent-based model (Mesa) of six states stepping a batch of independent worlds as numpy arrays.
The public API, in the order data flows (``dir(sim)`` lists it; each name is imported on first use):

Scenarios
    ``load_scenario(path, overrides, name=)`` -> a validated ``Scenario`` (named after its parameter overrides:
    ``baseline+agents.UK.troops=20000``); ``variant(scenario, overrides, name=)`` -> a validated copy named
    after its overrides; ``InputError`` for bad input.
Many points (docs/PYTHON.md)
    ``evaluate(points, outputs=, replications=, seed=, workers=, structure=)`` -> one row per point (dotted
    paths) with the headlines and their Wilson intervals, packed, common random numbers;
    ``parameter_space()`` -> every parameter with its prior, ``.to_salib_problem()``, ``.to_ema_model()``.
Runs
    ``run_scenario(scenario, workers=1)`` -> ``RunResult`` (tables as DataFrames); ``save_run(result, folder)``
    writes the CSVs, manifest and plots; ``read_csv(path)`` reads any of those CSVs back with the dtypes
    it was written with (docs/COLUMNS.md describes every column).
Mesa
    ``ScenarioModel``: keyword parameters and a DataCollector, for ``mesa.batch_run`` and SolaraViz;
    ``CeasefireModel``: the batch engine it wraps.
Figures (each returns a matplotlib Figure, and saves a PNG when given a path)
    ``plot_survival``, ``plot_trajectories``, ``plot_causes``, ``plot_compare`` (tables, a ``RunResult`` or a list
    of them), ``plot_validation``;
    sweeps: ``plot_hold_vs_axis``, ``plot_heatmap``, ``plot_main_effects``, ``plot_sobol``;
    folders: ``plot_run_dir``, ``compare_dirs``, ``plot_sweep_dir``.
Sweeps
    ``load_sweep(path)`` / ``quick_sweep(scenario_file, params)`` -> ``Sweep``; ``run_sweep(sweep, workers=1)``
    computes every point and returns a ``SweepResult`` (``.table``, ``.survival()``, ``.sobol()``; nothing is
    written); ``sim.outputs.artefacts.save(result.artefacts(), folder)`` writes its folder, as
    ``ceasefire sweep`` does. The package's layers: docs/ARCHITECTURE.md.
"""

from importlib import import_module as _import_module

# Names are imported on first use, so that a worker process (or `ceasefire --help`) does not pay
# for matplotlib and pandas before it needs them.
_EXPORTS = {
    "CeasefireModel": "sim.engine.model",
    "InputError": "sim.core.errors",
    "RunResult": "sim.experiments.run",
    "Scenario": "sim.spec.scenario",
    "ScenarioModel": "sim.engine.mesa_model",
    "Sweep": "sim.experiments.sweep.design",
    "compare_dirs": "sim.outputs.plots.runs",
    "evaluate": "sim.experiments.evaluate",
    "load_scenario": "sim.api",
    "load_sweep": "sim.experiments.sweep.design",
    "plot_causes": "sim.outputs.plots.runs",
    "plot_compare": "sim.outputs.plots.runs",
    "plot_heatmap": "sim.outputs.plots.sweep",
    "plot_hold_vs_axis": "sim.outputs.plots.sweep",
    "plot_main_effects": "sim.outputs.plots.sweep",
    "plot_run_dir": "sim.outputs.plots.runs",
    "plot_sobol": "sim.outputs.plots.sweep",
    "plot_survival": "sim.outputs.plots.runs",
    "plot_sweep_dir": "sim.outputs.plots.sweep",
    "plot_trajectories": "sim.outputs.plots.runs",
    "parameter_space": "sim.experiments.evaluate",
    "plot_validation": "sim.outputs.plots.runs",
    "quick_sweep": "sim.experiments.sweep.design",
    "read_csv": "sim.api",
    "run_scenario": "sim.experiments.run",
    "run_sweep": "sim.experiments.sweep.execute",
    "save_run": "sim.api",
    "variant": "sim.api",
}

__all__ = sorted(_EXPORTS)

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(_import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    """The public API and the module's own attributes, for ``dir(sim)`` and tab completion."""
    return sorted({*(n for n in globals() if n.startswith("__") or not n.startswith("_")), *__all__})
