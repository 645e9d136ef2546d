"""The dashboard page (Solara): controls on the left, this scenario against the baseline on the right.

Plain Solara components rather than Mesa's SolaraViz: SolaraViz draws one model's agents step by step,
while each change here re-runs a batch of 2,000 worlds to the horizon and shows statistics over them.
Served by ``ceasefire app`` (:mod:`sim.app.server`); ``solara run sim.app.page`` works too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import solara

from sim.app import state
from sim.app.figures import dashboard_png


@solara.component
def ReleaseSlider(control: state.Control, value: float, on_value: Callable[[Any], None]) -> solara.Element:
    """A slider that reports its value when released (or moved by keyboard), not at every pixel of a drag:
    each report re-runs the worlds. The value is reported as received; the page checks it."""
    with solara.Column(gap="0px") as column:
        solara.Text(f"{control.label}: {state.describe_value(value)}", style={"font-size": "0.9em"})
        slider = solara.v.Slider(v_model=value, min=control.low, max=control.high, step=control.step,
                                 thumb_label=True, hide_details=True, dense=True)

    def changed(_widget: Any, _event: str, data: Any) -> None:
        on_value(data)

    solara.v.use_event(slider, "change", changed)
    return column


@solara.component
def Controls(values: dict[str, Any], set_value: Callable[[str, Any], None]) -> None:
    """One slider per numeric control, one select per structural form; each wrapped in a div whose class
    names its path (``control-agents-UK-troops``) for the browser test."""
    heading("What if?")
    for control in state.SLIDERS:
        with solara.Div(classes=[css_class(control.path)]):
            ReleaseSlider(control, values[control.path], lambda v, path=control.path: set_value(path, v))
    heading("Structural forms")
    for control in state.SELECTS:
        with solara.Div(classes=[css_class(control.path)]):
            solara.Select(control.label, value=values[control.path], values=list(control.choices),
                          on_value=lambda v, path=control.path: set_value(path, v))


@solara.component
def Page() -> None:
    """The whole dashboard."""
    values, set_values = solara.use_state(state.default_values())
    name, set_name = solara.use_state(state.DEFAULT_NAME)
    message, set_message = solara.use_state("")

    def set_value(path: str, raw: Any) -> None:
        """Take a control's new value if it is one (:func:`state.control_value`); else show why it was ignored."""
        value, problem = state.control_value(path, raw)
        set_message(problem)
        if not problem:
            set_values(lambda old: {**old, path: value})

    def back_to_baseline() -> None:
        set_values(state.default_values())
        set_message("")

    key = tuple(sorted(values.items()))
    result, run_seconds = solara.use_memo(lambda: state.run_variant(values), dependencies=[key])
    baseline = state.baseline_result()
    png, draw_seconds = solara.use_memo(lambda: timed(dashboard_png, result, baseline), dependencies=[key])
    summary = state.sentence(values, result, baseline)
    solara.Title("ceasefire: what if?")
    with solara.Columns([1, 3]):
        with solara.Column():
            Controls(values, set_value)
            if message:
                solara.Text(message, classes=["ceasefire-control-message"], style={"color": "darkred"})
            solara.Button("Back to the baseline", on_click=back_to_baseline)
        with solara.Column():
            solara.Text(state.headline(result), classes=["ceasefire-p-deal"], style={"font-size": "1.4em"})
            solara.Text(summary, classes=["ceasefire-sentence"])
            solara.Image(png, format="png")
            solara.Text(f"{state.APP_WORLDS:,} worlds simulated in {run_seconds:.2f} s, drawn in "
                        f"{draw_seconds:.2f} s", classes=["ceasefire-timing"],
                        style={"color": "grey", "font-size": "0.85em"})
            Download(values, name, set_name, summary)


@solara.component
def Download(values: dict[str, Any], name: str, set_name: Callable[[str], None], description: str) -> None:
    """The scenario built on the page as a YAML file for ``ceasefire run``."""
    heading("Save this scenario")
    with solara.Row():
        solara.InputText("Scenario name", value=name, on_value=set_name, continuous_update=False)
        filename = f"{state.plain_name(name)}.yaml"
        solara.FileDownload(lambda: state.scenario_yaml(values, name, description), filename=filename,
                            label=f"Download {filename}", mime_type="application/x-yaml")


def heading(text: str) -> None:
    """A section heading (plain HTML: Markdown would fetch a maths renderer from the internet)."""
    solara.v.Html(tag="h3", children=[text], style_="margin: 0.6em 0 0.3em 0")


def timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``function(*args)`` and its wall time in seconds."""
    start = time.perf_counter()
    return function(*args), time.perf_counter() - start


def css_class(path: str) -> str:
    """``agents.UK.troops`` -> ``control-agents-UK-troops``."""
    return "control-" + path.replace(".", "-")
