"""The dashboard without a browser: controls -> overrides -> runs -> sentence and YAML, and ``ceasefire app``'s
checks. Runs are kept small (a few hundred worlds, short horizons); redraw time is measured, not asserted."""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from sim.app import state
from sim.cli import app as app_cli
from sim.cli.main import main
from sim.core.errors import InputError
from sim.mechanisms import DEFAULT_STRUCTURE, REGISTRY
from sim.spec.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
WORLDS = 200


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch):
    """The dashboard at 200 worlds, with its per-process caches emptied before and after."""
    monkeypatch.setattr(state, "APP_WORLDS", WORLDS)
    for cached in (state.baseline_scenario, state.baseline_result):
        cached.cache_clear()
    yield state
    for cached in (state.baseline_scenario, state.baseline_result):
        cached.cache_clear()


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
    hold_old, hold_new = small.p_holding(baseline, 120), small.p_holding(result, 120)
    expected = (f"UK troops 10,000 → 20,000, Horizon (days) 730 → 120 and objection {DEFAULT_STRUCTURE['objection']} "
                f"→ {other_form('objection')}: P(deal) {deal_old:.2f} → {deal_new:.2f}, "
                f"P(hold 120 d) {hold_old:.2f} → {hold_new:.2f}")
    assert small.sentence(values, result, baseline) == expected


def test_sentence_quotes_one_year_when_the_horizon_reaches_it(small):
    values = variant(agents__RU__provocation=0.3)
    result, _ = small.run_variant(values)
    text = small.sentence(values, result, small.baseline_result())
    assert re.fullmatch(r"Russia's provocation 0\.15 → 0\.3: P\(deal\) \d\.\d\d → \d\.\d\d, "
                        r"P\(hold 1 y\) \d\.\d\d → \d\.\d\d", text), text


def test_baseline_values_reuse_the_cached_baseline_run(small):
    result, _ = small.run_variant(small.default_values())
    assert result is small.baseline_result()
    assert small.sentence(small.default_values(), result, result).startswith("The baseline: P(deal) ")


def test_headline_shows_p_deal_with_its_interval(small):
    row = small.baseline_result().summary.iloc[0]
    assert small.headline(small.baseline_result()) == (
        f"P(deal) {row['p_agreed']:.3f} (95 % CI {row['p_agreed_ci_low']:.3f}–{row['p_agreed_ci_high']:.3f})")


def test_dashboard_figure_is_a_png(small):
    from sim.app.figures import dashboard_png

    result, _ = small.run_variant(variant(horizon_days=60))
    assert dashboard_png(result, small.baseline_result()).startswith(b"\x89PNG")


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


# --------------------------------------------------------------------------- the page, rendered without a browser


def test_page_redraws_when_the_troops_slider_is_released(small):
    solara = pytest.importorskip("solara")
    import ipyvuetify as widgets

    from sim.app.page import Page

    _, rc = solara.render(Page(), handle_error=False)
    shown = rc.find(widgets.Html, class_="ceasefire-p-deal").widget
    before = shown.children[0]
    assert before == small.headline(small.baseline_result())
    slider = rc.find(widgets.Slider).widgets[0]
    slider.fire_event("change", 30_000)
    rc.find(widgets.Html, class_="ceasefire-p-deal").assert_single()
    # the headline shown is the one of the new run (whether or not it differs from the baseline's at 200 worlds)
    expected, _ = small.run_variant(variant(agents__UK__troops=30_000))
    assert shown.children[0] == small.headline(expected)
    sentence = rc.find(widgets.Html, class_="ceasefire-sentence").widget.children[0]
    assert sentence.startswith("UK troops 10,000 → 30,000: P(deal) ")
    rc.close()


def test_page_ignores_a_hand_made_slider_value_and_says_so(small):
    solara = pytest.importorskip("solara")
    import ipyvuetify as widgets

    from sim.app.page import Page

    _, rc = solara.render(Page(), handle_error=False)
    before = rc.find(widgets.Html, class_="ceasefire-p-deal").widget.children[0]
    slider = rc.find(widgets.Slider).widgets[0]
    for raw in ["abc", float("nan"), None, [1], "1e999", float("inf")]:
        slider.fire_event("change", raw)
        shown = rc.find(widgets.Html, class_="ceasefire-control-message").widget.children[0]
        assert shown.startswith("UK troops: ignored ")
    rc.find(widgets.Select, label="Objection form").widget.v_model = "bogus"
    shown = rc.find(widgets.Html, class_="ceasefire-control-message").widget.children[0]
    assert shown.startswith("Objection form: ignored 'bogus'")
    assert rc.find(widgets.Html, class_="ceasefire-p-deal").widget.children[0] == before
    slider.fire_event("change", 30_000)
    rc.find(widgets.Html, class_="ceasefire-control-message").assert_empty()
    rc.close()


def test_page_redraws_when_a_structural_form_is_chosen(small):
    solara = pytest.importorskip("solara")
    import ipyvuetify as widgets

    from sim.app.page import Page

    _, rc = solara.render(Page(), handle_error=False)
    select = rc.find(widgets.Select, label="Objection form").widget
    select.v_model = other_form("objection")
    sentence = rc.find(widgets.Html, class_="ceasefire-sentence").widget.children[0]
    assert sentence.startswith(f"objection {DEFAULT_STRUCTURE['objection']} → {other_form('objection')}: P(deal) ")
    rc.close()
