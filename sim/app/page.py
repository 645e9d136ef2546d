"""The dashboard page (Solara): controls on the left, this scenario against the baseline on the right.

Plain Solara components rather than Mesa's SolaraViz: SolaraViz draws one model's agents step by step,
while each change here re-runs a batch of 2,000 worlds to the horizon and shows statistics over them.
Served by ``ceasefire app`` (:mod:`sim.app.server`); ``solara run sim.app.page`` works too.

Each change starts a run in a worker thread (``solara.lab.use_task``) and the page stays responsive: the
latest change wins, a run whose values are no longer the page's stops at its next simulated day
(:class:`sim.app.state.Superseded`), and the last result stays on the page, dimmed, under a busy bar until
the new one arrives.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara
import solara.lab
import traitlets
from solara.widgets import VegaLite

from sim.app import state
from sim.app.figures import dashboard_spec


@dataclass(frozen=True)
class Shown:
    """What the page shows for one set of values, computed in the worker thread."""

    key: tuple[Any, ...]
    headline: str
    sentence: str
    timing: str
    spec: dict[str, Any]


def compute_shown(values: dict[str, Any], superseded: Callable[[], bool],
                  found: dict[Any, state.Computed] | None = None) -> Shown:
    """The run (or the cached one) for ``values`` and everything the page shows of it; the baseline's run
    too when this process has not run it yet (its time is then part of the timing shown). ``found`` holds
    runs started early (:func:`start_early`), by key."""
    computed = (found or {}).pop(state.values_key(values), None) or state.compute(values, superseded)
    base = state.compute(state.default_values(), superseded)
    if superseded():
        raise state.Superseded
    start = time.perf_counter()
    spec = dashboard_spec(computed.result, base.result, state.change_list(values))
    chart = time.perf_counter() - start
    timing = state.timing(computed)
    if not base.from_cache and base.result is not computed.result:
        timing += f" (and the baseline's in {base.seconds:.2f} s)"
    return Shown(state.values_key(values), state.headline(computed.result),
                 state.sentence(values, computed.result, base.result),
                 f"{timing}; chart data built in {chart:.2f} s, drawn by the browser", spec)


def start_early(values: dict[str, Any], superseded: Callable[[], bool], found: dict[Any, state.Computed]) -> None:
    """Run ``values`` unless superseded first, and leave the run in ``found`` for the page's task (which
    then shows its real time, not "from cache"); errors are left to the task, which runs the same values."""
    with contextlib.suppress(Exception):
        found[state.values_key(values)] = state.compute(values, superseded)


def _local_cdn_template() -> str:
    """Solara's Vega-Lite widget, reading Vega from the copies Solara ships (``solara-assets``) rather than
    from a CDN on the internet: the dashboard works offline and fetches nothing. Marks each drawn chart
    (:data:`DRAWN_MARK`)."""
    template = Path(VegaLite.template_file).read_text(encoding="utf-8")
    try:
        from solara.server import settings

        folder = Path(settings.assets.proxy_cache_dir)
        for package, major in (("vega", "5"), ("vega-lite", "5"), ("vega-embed", "6")):
            shipped = sorted(p.name for p in folder.glob(f"{package}@{major}.*") if (p / "build").is_dir())
            if shipped:
                template = template.replace(f"/{package}@{major}/", f"/{shipped[-1]}/")
    except (ImportError, OSError, AttributeError):
        pass
    drawn = "const { view } = await vegaEmbed(this.$refs.plotElement, spec);"
    # Solara waits 100 ms before drawing a new specification; the page sends one per finished run
    template = template.replace("this.do_plot()\n        }, 100)", "this.do_plot()\n        }, 0)")
    return template.replace(drawn, drawn + DRAWN_MARK)


DRAWN_MARK = " this.$refs.plotElement.dataset.drawn = (spec.title && spec.title.text) || '';"
"""Added to the widget's script: once Vega has drawn a chart, its container's ``data-drawn`` holds the chart's
title (the change shown), so a browser test or benchmark can wait for the chart itself, not only the text."""


class LocalVegaLite(VegaLite):
    """:class:`solara.widgets.VegaLite` with Vega loaded from the local server only."""

    template_file = None
    template = traitlets.Unicode(_local_cdn_template()).tag(sync=True)


@solara.component
def ReleaseSlider(control: state.Control, value: float, on_value: Callable[[Any], None]) -> solara.Element:
    """A slider whose label follows its thumb while it moves, and which reports its value when released
    (or moved by keyboard), not at every pixel of a drag: each report re-runs the worlds. The value is
    reported as received; the page checks it."""
    shown, set_shown = solara.use_state(value)
    solara.use_effect(lambda: set_shown(value), [value])

    def follow(raw: Any) -> None:
        checked, problem = state.control_value(control.path, raw)
        if not problem:
            set_shown(checked)

    with solara.Column(gap="0px") as column:
        solara.Text(state.slider_label(control, shown), classes=["ceasefire-slider-label"],
                    style={"font-size": "0.9em"})
        slider = solara.v.Slider(v_model=shown, on_v_model=follow, min=control.low, max=control.high,
                                 step=control.step, thumb_label=True, hide_details=True, dense=True)
        solara.Text(state.control_help(control), classes=["ceasefire-help"],
                    style={"font-size": "0.75em", "color": "#666", "line-height": "1.2"})

    def changed(_widget: Any, _event: str, data: Any) -> None:
        on_value(data)

    solara.v.use_event(slider, "change", changed)
    return column


@solara.component
def Controls(values: dict[str, Any], set_value: Callable[[str, Any], None]) -> None:
    """One slider per numeric control, one select per structural form (its options the registry's
    descriptions); each wrapped in a div whose class names its path (``control-agents-UK-troops``)."""
    heading("What if?")
    for control in state.SLIDERS:
        with solara.Div(classes=[css_class(control.path)], style={"margin-bottom": "0.5em"}):
            ReleaseSlider(control, values[control.path], lambda v, path=control.path: set_value(path, v))
    heading("Structural forms")
    for control in state.SELECTS:
        with solara.Div(classes=[css_class(control.path)]):
            solara.v.Select(label=control.label, v_model=values[control.path], items=state.form_items(control),
                            item_text="text", item_value="value", hint=state.form_question(control),
                            persistent_hint=True, dense=True,
                            on_v_model=lambda v, path=control.path: set_value(path, v))


@solara.component
def Layout(children: list[Any] = []) -> solara.Element:  # noqa: B006 (Solara's signature for a layout)
    """The page as a plain column: the document scrolls, not an inner container (Solara's default
    AppLayout scrolls inside a fixed-height box, which also cuts full-page captures at the window)."""
    return solara.Column(children=children, style={"padding": "8px 16px"})


@solara.component
def Page() -> None:
    """The whole dashboard."""
    values, set_values = solara.use_state(state.default_values())
    name, set_name = solara.use_state(state.DEFAULT_NAME)
    message, set_message = solara.use_state("")
    key = state.values_key(values)
    current = solara.use_ref(values)  # the latest values, set by each change before the page renders them
    latest = solara.use_ref(key)  # their key: a run for any other key is superseded
    early = solara.use_ref({})  # runs started by a change, by key, for the task to show

    def change(new: dict[str, Any]) -> None:
        """New values: any older run stops at its next day, and the new one starts at once, in its own
        thread, before the page has re-rendered (the page's task then joins it: ``state.compute``)."""
        new_key = state.values_key(new)
        current.current, latest.current = new, new_key
        early.current.clear()
        threading.Thread(target=start_early, args=(new, lambda: latest.current != new_key, early.current),
                         daemon=True).start()
        set_values(new)

    def set_value(path: str, raw: Any) -> None:
        """Take a control's new value if it is one (:func:`state.control_value`); else show why it was ignored."""
        value, problem = state.control_value(path, raw)
        set_message(problem)
        if not problem:
            change({**current.current, path: value})

    def back_to_baseline() -> None:
        change(state.default_values())
        set_message("")

    def work() -> Shown:
        return compute_shown(values, lambda: latest.current != key, early.current)

    task = solara.lab.use_task(work, dependencies=[key], raise_error=False)
    shown: Shown | None = task.latest if isinstance(task.latest, Shown) else None
    busy = task.pending or shown is None or shown.key != key
    solara.Title("ceasefire: what if?")
    with solara.Columns([1, 3]):
        with solara.Column():
            Controls(values, set_value)
            if message:
                solara.Text(message, classes=["ceasefire-control-message"], style={"color": "darkred"})
            solara.Button("Back to the baseline", on_click=back_to_baseline)
        with solara.Column():
            Status(busy, task.error and not task.pending, values, task)
            Results(shown, busy)
            Download(values, name, set_name, shown.sentence if shown and not busy else state.change_list(values))


@solara.component
def Status(busy: bool, failed: bool, values: dict[str, Any], task: Any) -> None:
    """The busy bar and what is being run, or why the last run failed; an empty line when idle."""
    if failed:
        solara.Text(f"The run failed: {task.exception}", classes=["ceasefire-error"], style={"color": "darkred"})
    solara.ProgressLinear(busy)
    if busy:
        solara.Text(f"Running {state.APP_WORLDS:,} worlds for {state.change_list(values)} …",
                    classes=["ceasefire-busy"], style={"color": "#1f4e79", "font-size": "0.9em"})


@solara.component
def Results(shown: Shown | None, busy: bool) -> None:
    """P(deal), the sentence, the chart and the timing of the last finished run, dimmed while a newer one runs."""
    if shown is None:
        return
    dim = {"opacity": "0.45" if busy else "1", "transition": "opacity 0.2s"}
    with solara.Div(classes=["ceasefire-stale" if busy else "ceasefire-current"], style=dim), solara.Column(gap="6px"):
        solara.Text(shown.headline, classes=["ceasefire-p-deal"], style={"font-size": "1.4em"})
        solara.Text(shown.sentence, classes=["ceasefire-sentence"])
        with solara.Div(classes=["ceasefire-chart"]):
            LocalVegaLite.element(spec=shown.spec)
        solara.Text(shown.timing, classes=["ceasefire-timing"], style={"color": "grey", "font-size": "0.85em"})


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


def css_class(path: str) -> str:
    """``agents.UK.troops`` -> ``control-agents-UK-troops``."""
    return "control-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)

