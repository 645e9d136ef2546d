"""The dashboard without a browser: controls -> overrides -> runs -> sentence and YAML, and ``ceasefire app``'s
checks. Runs are kept small (a few hundred worlds, short horizons); redraw time is measured, not asserted.

The page runs its worlds in a worker thread: tests of the rendered page wait for a state of the page (with a
deadline), never for a fixed time."""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from sim.app import state
from sim.cli import app as app_cli
from sim.cli.main import main
from sim.core.errors import InputError
from sim.experiments.run import run_scenario
from sim.mechanisms import DEFAULT_STRUCTURE, MECHANISMS, REGISTRY
from sim.spec.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
WORLDS = 200


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch):
    """The dashboard at 200 worlds, with its per-process caches emptied before and after."""
    monkeypatch.setattr(state, "APP_WORLDS", WORLDS)
    state.baseline_scenario.cache_clear()
    state.clear_cache()
    yield state
    state.baseline_scenario.cache_clear()
    state.clear_cache()


def other_form(mechanism: str) -> str:
    """A form of ``mechanism`` that is not the default."""
    return next(form for form in REGISTRY[mechanism] if form != DEFAULT_STRUCTURE[mechanism])


def variant(**changes: object) -> dict[str, object]:
    """The page's values with some controls changed (keys are dotted paths with '__' for '.')."""
    values = state.default_values()
    values.update({key.replace("__", "."): value for key, value in changes.items()})
    return values


# --------------------------------------------------------------------------- controls -> overrides


def test_controls_cover_every_requested_parameter_and_form():
    paths = {control.path for control in state.CONTROLS}
    assert {"agents.UK.troops", "agents.FR.troops", "agents.DE.troops", "agents.UK.resolve", "agents.FR.resolve",
            "agents.DE.resolve", "agents.US.detection_probability", "agents.RU.provocation",
            "agents.RU.troop_objection", "horizon_days"} <= paths
    for mechanism, forms in REGISTRY.items():
        select = next(c for c in state.SELECTS if c.path == f"structure.{mechanism}")
        assert select.choices == tuple(forms)


def test_defaults_are_the_baselines_values_and_within_each_slider(small):
    scenario = small.baseline_scenario()
    values = small.default_values()
    assert values["agents.UK.troops"] == scenario.agents.UK.troops
    assert values["agents.RU.troop_objection"] == scenario.agents.RU.troop_objection
    assert values["horizon_days"] == scenario.horizon_days
    assert {m: values[f"structure.{m}"] for m in REGISTRY} == DEFAULT_STRUCTURE
    for control in state.SLIDERS:
        assert control.low <= values[control.path] <= control.high, control.path
        assert small.snap(control.path, values[control.path]) == values[control.path], control.path


def test_overrides_hold_only_the_changed_controls(small):
    values = variant(agents__UK__troops=20_000, structure__objection=other_form("objection"))
    assert small.overrides(values) == {"replications": WORLDS, "agents.UK.troops": 20_000,
                                       "structure.objection": other_form("objection")}
    assert small.overrides(small.default_values()) == {"replications": WORLDS}


def test_snap_keeps_values_on_the_slider_grid():
    assert state.snap("agents.UK.troops", 12_345.6) == 12_000
    assert isinstance(state.snap("agents.UK.troops", 12_345.6), int)
    assert state.snap("agents.UK.troops", 1e9) == 40_000
    assert state.snap("agents.UK.resolve", 0.6500000001) == 0.65
    assert state.snap("agents.UK.resolve", -3) == 0.0
    assert state.snap("horizon_days", 364) == 365
    assert state.snap("structure.objection", "linear") == "linear"


# --------------------------------------------------------------------------- results -> sentence, figure


HOSTILE_VALUES = [float("nan"), float("inf"), -float("inf"), "abc", None, [1], "1e999", "5", True, {"a": 1},
                  10**400, 1e9, -3]
"""What a hand-made websocket message may send a slider: none is a value of one."""


@pytest.mark.parametrize("raw", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize("path", [control.path for control in state.SLIDERS])
def test_hostile_slider_values_are_ignored_with_a_message_never_an_exception(path, raw):
    control = next(c for c in state.SLIDERS if c.path == path)
    value, message = state.control_value(path, raw)
    assert value is None and message.startswith(f"{control.label}: ignored ")
    assert message.endswith(f"; the slider takes {state.describe_value(control.low)} to "
                            f"{state.describe_value(control.high)}.")
    assert "\n" not in message and len(message) < 200


@pytest.mark.parametrize("raw", ["bogus", None, 1, ["linear"], "", "x" * 10_000])
def test_hostile_select_values_are_ignored_with_a_message(raw):
    value, message = state.control_value("structure.objection", raw)
    assert value is None and message.startswith("Objection form: ignored ") and "the forms are " in message
    assert len(message) < 300


def test_values_in_range_are_taken_and_made_exact():
    assert state.control_value("agents.UK.troops", 12_345.6) == (12_000, "")
    assert state.control_value("agents.UK.resolve", 1) == (1.0, "")
    assert state.control_value("agents.UK.resolve", 1.0000000000001) == (1.0, "")  # a float a hair past the end
    assert state.control_value("horizon_days", 30) == (30, "")
    assert state.control_value("structure.objection", other_form("objection")) == (other_form("objection"), "")


@pytest.mark.parametrize("path", ["agents.UK.trops", None, ["agents.UK.troops"], "name"])
def test_a_value_for_no_control_is_ignored(path):
    value, message = state.control_value(path, 1)
    assert value is None and message.startswith("Ignored a value for ")


@pytest.mark.parametrize("name", [None, 5, ["x"], {"a": 1}, "\x00" * 100_000])
def test_download_name_of_anything_but_text_is_the_default(name):
    assert state.plain_name(name) == state.DEFAULT_NAME


def test_sentence_lists_the_changes_in_page_order_with_both_figures(small):
    values = variant(agents__UK__troops=20_000, structure__objection=other_form("objection"), horizon_days=120)
    result, seconds = small.run_variant(values)
    baseline = small.baseline_result()
    assert result.scenario.agents.UK.troops == 20_000 and result.scenario.horizon_days == 120
    assert len(result.runs) == WORLDS and seconds >= 0
    deal_old, deal_new = baseline.summary.iloc[0]["p_agreed"], result.summary.iloc[0]["p_agreed"]
    old, new = baseline.survival.iloc[120], result.survival.iloc[120]
    expected = (f"UK troops 10,000 → 20,000, Horizon (days) 730 → 120 and objection {DEFAULT_STRUCTURE['objection']} "
                f"→ {other_form('objection')}: P(deal) {deal_old:.2f} → {deal_new:.2f}, "
                f"P(hold 120 d) {old['p_holding']:.2f} (95 % CI {old['ci_low']:.2f}–{old['ci_high']:.2f}) → "
                f"{new['p_holding']:.2f} (95 % CI {new['ci_low']:.2f}–{new['ci_high']:.2f})")
    assert small.sentence(values, result, baseline) == expected


def test_p_hold_in_the_sentence_carries_its_wilson_interval(small):
    from sim.stats.metrics import wilson_interval

    result = small.baseline_result()
    row = result.survival.iloc[365]
    low, high = wilson_interval(round(row["p_holding"] * WORLDS), WORLDS)
    assert (round(float(low), 6), round(float(high), 6)) == (round(row["ci_low"], 6), round(row["ci_high"], 6))
    text = small.sentence(small.default_values(), result, result)
    assert text.endswith(f"P(hold 1 y) {row['p_holding']:.2f} (95 % CI {low:.2f}–{high:.2f})")


def test_sentence_quotes_one_year_when_the_horizon_reaches_it(small):
    values = variant(agents__RU__provocation=0.3)
    result, _ = small.run_variant(values)
    text = small.sentence(values, result, small.baseline_result())
    interval = r"\d\.\d\d \(95 % CI \d\.\d\d–\d\.\d\d\)"
    assert re.fullmatch(r"Russia's provocation 0\.15 → 0\.3: P\(deal\) \d\.\d\d → \d\.\d\d, "
                        rf"P\(hold 1 y\) {interval} → {interval}", text), text


def test_baseline_values_reuse_the_cached_baseline_run(small):
    result, _ = small.run_variant(small.default_values())
    assert result is small.baseline_result()
    assert small.sentence(small.default_values(), result, result).startswith("The baseline: P(deal) ")


def test_headline_shows_p_deal_with_its_interval(small):
    row = small.baseline_result().summary.iloc[0]
    assert small.headline(small.baseline_result()) == (
        f"P(deal) {row['p_agreed']:.3f} (95 % CI {row['p_agreed_ci_low']:.3f}–{row['p_agreed_ci_high']:.3f})")


def test_dashboard_chart_is_vega_lite_with_a_tooltip_on_every_panel(small):
    import json

    from sim.app.figures import VEGA_LITE_SCHEMA, dashboard_spec

    result, _ = small.run_variant(variant(horizon_days=60))
    spec = dashboard_spec(result, small.baseline_result(), "Horizon (days) 730 → 60")
    assert spec["$schema"] == VEGA_LITE_SCHEMA and spec["title"]["text"] == "Horizon (days) 730 → 60"
    panels = [panel for row in spec["vconcat"] for panel in row["hconcat"]]
    assert len(panels) == 4
    for panel in panels:
        tooltips = [layer["encoding"]["tooltip"] for layer in panel["layer"] if "tooltip" in layer.get("encoding", {})]
        assert tooltips, panel["title"]
        titles = [line.get("title", line["field"]) for line in tooltips[0]]
        assert len(set(titles)) == len(titles), titles  # Vega-Lite keeps one line per title
    survival = panels[0]["data"]
    assert survival["format"]["type"] == "csv"
    header, first, *rest = survival["values"].splitlines()
    assert header.split(",")[:2] == ["day", "base"] and len(rest) == 730  # every day of the longer run
    assert len(json.dumps(spec)) < 200_000  # the page's message stays small


# --------------------------------------------------------------------------- YAML download


def test_downloaded_yaml_validates_standalone_and_reproduces_the_page(small, tmp_path, capsys):
    values = variant(agents__UK__troops=20_000, agents__US__detection_probability=0.5,
                     structure__escalation=other_form("escalation"), horizon_days=200)
    path = tmp_path / "elsewhere" / "mine.yaml"
    path.parent.mkdir()
    path.write_text(small.scenario_yaml(values, "my variant/../x", "UK troops 10,000 → 20,000"), encoding="utf-8")

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "extends" not in document
    assert document["agents"] == {"UK": {"troops": 20_000}, "US": {"detection_probability": 0.5}}
    assert document["structure"] == {"escalation": other_form("escalation")}
    scenario = load_scenario(path)
    assert scenario.name == "my-variant-..-x"
    assert (scenario.replications, scenario.horizon_days, scenario.seed) == (WORLDS, 200, 20261125)
    assert scenario.agents.UK.troops == 20_000 and scenario.agents.US.detection_probability == 0.5
    assert scenario.structure.escalation == other_form("escalation")
    assert scenario.agents.FR == small.baseline_scenario().agents.FR
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_downloaded_yaml_of_the_baseline_holds_run_settings_only(small):
    document = yaml.safe_load(small.scenario_yaml(small.default_values(), "", "as is"))
    assert document == {"name": "dashboard", "description": "as is", "horizon_days": 730,
                        "replications": WORLDS, "seed": 20261125}


@pytest.mark.parametrize(("text", "name"), [("my run", "my-run"), ("", "dashboard"), ("...", "dashboard"),
                                            ("../../etc", "etc"), ("é" * 100, "dashboard"), ("a" * 100, "a" * 80)])
def test_download_name_is_always_a_valid_scenario_name(text, name):
    assert state.plain_name(text) == name


# --------------------------------------------------------------------------- ceasefire app


def run_app(argv: list[str]) -> int:
    """``ceasefire app ...`` through the parser and handler this module registers, as sim.cli.main does."""
    parser = argparse.ArgumentParser(prog="ceasefire")
    app_cli.add_app_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args, argv)


def test_app_without_solara_prints_one_line_and_exits_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", None)
    assert run_app(["app", "--port", "8765"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "error: the dashboard needs the app extra: pip install 'ceasefire[app]'\n"
    assert captured.out == ""


def test_app_refuses_ipyvuetify_3(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "solara", types.ModuleType("solara"))
    fake = types.ModuleType("ipyvuetify")
    fake.__version__ = "3.1.0"
    monkeypatch.setitem(sys.modules, "ipyvuetify", fake)
    assert run_app(["app"]) == 2
    assert "ipyvuetify<3" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_app_refuses_a_port_out_of_range(monkeypatch, port):
    monkeypatch.setattr(app_cli, "missing_extra", lambda: None)
    with pytest.raises(InputError, match=r"^--port: must be 1-65535"):
        run_app(["app", "--port", port])


def test_app_refuses_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(InputError, match=r"^--port: \d+ is in use on '127.0.0.1'; choose another port$"):
            app_cli.check_port("127.0.0.1", taken.getsockname()[1])


def test_base_modules_import_without_solara():
    code = ("import sys; sys.modules['solara'] = None; sys.modules['ipyvuetify'] = None\n"
            "import sim.cli.main, sim.cli.app, sim.app.state, sim.app.figures")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- runs: stoppable, cached, timed


def test_stoppable_run_gives_the_records_of_run_scenario(small):
    scenario = load_scenario(small.baseline_path(), small.overrides(variant(agents__UK__troops=20_000,
                                                                            horizon_days=120)))
    expected = run_scenario(scenario, workers=1, record_trajectories=True)
    got = small.run_stoppable(scenario, lambda: False)
    for name, table in expected.tables().items():
        assert got.tables()[name].equals(table), name


def test_a_superseded_run_stops_between_days_and_is_not_cached(small):
    values = variant(agents__UK__troops=25_000)
    asked = []

    def superseded() -> bool:
        asked.append(1)
        return len(asked) > 20  # a newer change arrives on day 20

    with pytest.raises(small.Superseded):
        small.compute(values, superseded)
    assert len(asked) == 21
    assert small.values_key(values) not in small._CACHE
    assert not small.compute(values).from_cache  # run afresh when asked again


def test_a_repeated_run_comes_from_the_cache_and_says_so(small):
    values = variant(agents__RU__provocation=0.2, horizon_days=90)
    first = small.compute(values)
    again = small.compute(values)
    assert not first.from_cache and first.seconds > 0
    assert again.from_cache and again.result is first.result and again.seconds == 0
    assert small.timing(first) == f"{WORLDS} worlds × 90 days simulated in {first.seconds:.2f} s"
    assert small.timing(again) == f"{WORLDS} worlds × 90 days from cache (simulated earlier in this session)"
    assert "0.00 s" not in small.timing(again)


def test_callers_for_values_already_running_wait_for_that_run(small, monkeypatch):
    values = variant(agents__DE__troops=8_000, horizon_days=60)
    runs, gate = [], threading.Event()
    run = small.run_stoppable

    def counted(scenario, superseded):
        runs.append(1)
        gate.wait(DEADLINE)
        return run(scenario, superseded)

    monkeypatch.setattr(small, "run_stoppable", counted)
    got: list[object] = []
    callers = [threading.Thread(target=lambda: got.append(small.compute(values))) for _ in range(2)]
    for caller in callers:
        caller.start()
    wait_for(lambda: runs and small.values_key(values) in small._RUNNING, "the first caller running")
    gate.set()
    for caller in callers:
        caller.join(DEADLINE)
    assert len(runs) == 1 and len(got) == 2
    assert got[0] is got[1] and not got[0].from_cache  # both show the run's own time


def test_the_cache_is_bounded_and_keeps_the_baseline(small, monkeypatch):
    monkeypatch.setattr(small, "CACHE_RUNS", 2)
    baseline = small.baseline_result()
    for days in (30, 35, 40):
        small.compute(variant(horizon_days=days))
    assert len(small._CACHE) == 2
    assert small.compute(small.default_values()).result is baseline
    assert small.compute(variant(horizon_days=40)).from_cache
    assert not small.compute(variant(horizon_days=30)).from_cache


# --------------------------------------------------------------------------- what the controls say


def test_every_slider_states_its_unit_range_and_prior():
    from sim.spec.space import parameters

    priors = {p.path: p for p in parameters()}
    for control in state.SLIDERS:
        text = state.control_help(control)
        assert text.startswith(f"Range {state.describe_value(control.low)}–{state.describe_value(control.high)}")
        parameter = priors.get(control.path)
        if parameter is None:
            assert control.path == "horizon_days" and "Days simulated" in text
        else:
            assert parameter.description[1:] in text, control.path
            assert parameter.provenance in text, control.path
    assert state.slider_label(state.SLIDERS[0], 12_000) == "UK troops: 12,000 soldiers"
    assert state.control_help(state.SLIDERS[0]) == (
        "Range 0–40,000 soldiers. Ground troops inside Ukraine, count >= 0. Prior 5,000–20,000 (assumption).")
    assert state.slider_label(next(c for c in state.SLIDERS if c.path == "agents.RU.troop_objection"), 0.4) == \
        "Russia's troop objection: 0.4 log-odds"


def test_every_form_is_offered_with_its_registry_description():
    for control in state.SELECTS:
        mechanism = control.path.split(".", 1)[1]
        items = state.form_items(control)
        assert [item["value"] for item in items] == list(REGISTRY[mechanism])
        assert [item["text"] for item in items] == [MECHANISMS[mechanism].describe(f) for f in REGISTRY[mechanism]]
        assert state.form_question(control) == MECHANISMS[mechanism].question


# --------------------------------------------------------------------------- the page, rendered without a browser

DEADLINE = 300.0
"""Seconds a test of the page waits for a state before failing (a run of 200 worlds on a busy machine)."""


def wait_for(condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> object:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"the page did not reach this state within {deadline:.0f} s: {what}")


def texts(rc, css: str) -> list[str]:
    """The texts shown with CSS class ``css`` (a solara.Text is an Html span)."""
    import ipyvuetify as widgets

    return [str(widget.children[0]) for widget in rc.find(widgets.Html, class_=css).widgets if widget.children]


def dimmed(rc) -> bool:
    """The results shown are those of an earlier change (a column of class ``ceasefire-stale``)."""
    import ipyvuetify as widgets

    return bool(rc.find(widgets.Html, class_="ceasefire-stale").widgets)


def idle(rc) -> bool:
    """The page shows a finished run and runs nothing."""
    return not texts(rc, "ceasefire-busy") and bool(texts(rc, "ceasefire-p-deal"))


def shows(rc, sentence_start: str) -> bool:
    """The page is idle and its sentence starts with ``sentence_start``."""
    return idle(rc) and any(text.startswith(sentence_start) for text in texts(rc, "ceasefire-sentence"))


@pytest.fixture
def page(small):
    """The page rendered in-process at 200 worlds, once its first run is shown; closed afterwards."""
    solara = pytest.importorskip("solara")
    from sim.app.page import Page

    _, rc = solara.render(Page(), handle_error=False)
    wait_for(lambda: shows(rc, "The baseline: "), "the baseline shown")
    yield rc
    rc.close()


def slider(rc, path: str = "agents.UK.troops"):
    import ipyvuetify as widgets

    from sim.app.page import css_class

    return rc.find(widgets.Html, class_=css_class(path)).find(widgets.Slider).widget


def test_page_redraws_when_the_troops_slider_is_released(page, small):
    assert texts(page, "ceasefire-p-deal") == [small.headline(small.baseline_result())]
    slider(page).fire_event("change", 30_000)
    wait_for(lambda: shows(page, "UK troops 10,000 → 30,000: P(deal) "), "the run at 30,000 troops")
    # the headline shown is the one of the new run (whether or not it differs from the baseline's at 200 worlds)
    expected, _ = small.run_variant(variant(agents__UK__troops=30_000))
    assert texts(page, "ceasefire-p-deal") == [small.headline(expected)]
    assert "P(hold 1 y) " in texts(page, "ceasefire-sentence")[0] and "95 % CI" in texts(page, "ceasefire-sentence")[0]


def test_page_ignores_a_hand_made_slider_value_and_says_so(page):
    import ipyvuetify as widgets

    before = texts(page, "ceasefire-p-deal")
    for raw in ["abc", float("nan"), None, [1], "1e999", float("inf")]:
        slider(page).fire_event("change", raw)
        message = wait_for(lambda: texts(page, "ceasefire-control-message"), "the message")
        assert message[0].startswith("UK troops: ignored "), message
    page.find(widgets.Select, label="Objection form").widget.v_model = "bogus"
    message = wait_for(lambda: [t for t in texts(page, "ceasefire-control-message") if "bogus" in t], "the message")
    assert message[0].startswith("Objection form: ignored 'bogus'")
    assert idle(page) and texts(page, "ceasefire-p-deal") == before
    slider(page).fire_event("change", 30_000)
    wait_for(lambda: not texts(page, "ceasefire-control-message"), "the message cleared")


def test_page_redraws_when_a_structural_form_is_chosen(page):
    import ipyvuetify as widgets

    select = page.find(widgets.Select, label="Objection form").widget
    described = [MECHANISMS["objection"].describe(form) for form in REGISTRY["objection"]]
    assert [item["text"] for item in select.items] == described
    assert select.hint == MECHANISMS["objection"].question
    select.v_model = other_form("objection")
    wait_for(lambda: shows(page, f"objection {DEFAULT_STRUCTURE['objection']} → {other_form('objection')}: P(deal) "),
             "the run with the other form")


def test_slider_label_follows_the_thumb_without_running(page, small):
    before = texts(page, "ceasefire-sentence")
    slider(page).v_model = 27_000  # what the browser sends while the thumb is dragged, before release
    wait_for(lambda: "UK troops: 27,000 soldiers" in texts(page, "ceasefire-slider-label"), "the label at 27,000")
    assert idle(page) and texts(page, "ceasefire-sentence") == before
    assert small.values_key(variant(agents__UK__troops=27_000)) not in small._CACHE
    slider(page).v_model = float("nan")  # a hand-made value moves no label
    assert "UK troops: 27,000 soldiers" in texts(page, "ceasefire-slider-label")


def test_page_shows_a_busy_state_while_it_runs(page, small, monkeypatch):
    from sim.app import page as page_module

    release = threading.Event()
    compute = page_module.compute_shown

    def held(values, *args):
        release.wait(DEADLINE)
        return compute(values, *args)

    monkeypatch.setattr(page_module, "compute_shown", held)
    slider(page).fire_event("change", 31_000)
    busy = wait_for(lambda: texts(page, "ceasefire-busy"), "the busy state")
    assert busy == [f"Running {WORLDS:,} worlds for UK troops 10,000 → 31,000 …"]
    assert dimmed(page)  # the last result stays, dimmed
    assert texts(page, "ceasefire-sentence")[0].startswith("The baseline: ")
    release.set()
    wait_for(lambda: shows(page, "UK troops 10,000 → 31,000: "), "the run at 31,000 troops")
    assert not dimmed(page)


def test_latest_change_wins_and_superseded_runs_stop(page, small, monkeypatch):
    from sim.app import page as page_module

    started, finished = [], []
    compute = page_module.compute_shown

    def recorded(values, *args):
        started.append(values["agents.UK.troops"])
        shown = compute(values, *args)
        finished.append(values["agents.UK.troops"])
        return shown

    monkeypatch.setattr(page_module, "compute_shown", recorded)
    for troops in (20_000, 21_000, 22_000):
        slider(page).fire_event("change", troops)
    wait_for(lambda: shows(page, "UK troops 10,000 → 22,000: "), "the last change's run")
    assert finished == [22_000], (started, finished)
    assert small.values_key(variant(agents__UK__troops=20_000)) not in small._CACHE
    assert small.values_key(variant(agents__UK__troops=21_000)) not in small._CACHE


def test_timings_are_honest_about_the_cache(page):
    assert texts(page, "ceasefire-timing")[0].startswith(f"{WORLDS} worlds × 730 days simulated in ")
    slider(page).fire_event("change", 32_000)
    wait_for(lambda: shows(page, "UK troops 10,000 → 32,000: "), "the run at 32,000 troops")
    assert " simulated in " in texts(page, "ceasefire-timing")[0]
    slider(page).fire_event("change", 10_000)
    wait_for(lambda: shows(page, "The baseline: "), "the baseline again")
    timing = texts(page, "ceasefire-timing")[0]
    assert timing.startswith(f"{WORLDS} worlds × 730 days from cache") and "0.00 s" not in timing.split(";")[0]
