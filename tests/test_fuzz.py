"""Fuzzing the scenario loader: whatever the document, an answer (valid) or one clear line (exit 2)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from sim.core.errors import InputError
from sim.core.strict_yaml import LOADERS, parse_yaml
from sim.spec.scenario import Agents, ModelParams

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
AGENT_KEYS = sorted(
    {name for code in Agents.model_fields for name in Agents.model_fields[code].annotation.model_fields}
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["1e3", "yes", "~", "nan", "-.inf", "0x1F"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
agent_sections = st.dictionaries(st.sampled_from(list(Agents.model_fields) + ["XX"]),
                                 st.dictionaries(st.sampled_from(AGENT_KEYS + ["trops"]), values, max_size=4),
                                 max_size=3)
model_sections = st.dictionaries(st.sampled_from(sorted(ModelParams.model_fields) + ["nope"]), values, max_size=3)
documents = st.fixed_dictionaries(
    {"name": st.one_of(st.just("fuzz"), st.text(max_size=10), st.integers())},
    optional={"agents": st.one_of(agent_sections, values), "model": st.one_of(model_sections, values),
              "horizon_days": values, "replications": values, "seed": values, "description": values,
              "extends": st.one_of(st.sampled_from(["baseline.yaml", "baseline", "russia_hardline"]),
                                   st.text(max_size=10)),
              "unknown": values},
)


def _examples(ci: int) -> int:
    """``ci`` examples under the default profile, proportionally more under HYPOTHESIS_PROFILE=fuzz."""
    return ci * settings.default.max_examples // 100


def _validate(text: str) -> tuple[int, str]:
    """Exit code and stderr of ``ceasefire validate`` on a file holding ``text`` (beside a copy of the
    baseline, which it may extend)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "baseline.yaml").write_bytes(BASELINE.read_bytes())
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(["validate", str(path)])
        return code, err.getvalue()


@settings(max_examples=_examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=documents)
@example(document={"name": "fuzz", "extends": "\n"})  # once gave a two-line error
@example(document={"name": "fuzz", "extends": "baseline.yaml", "replications": True})
def test_random_scenario_documents_exit_0_or_2(document):
    code, err = _validate(yaml.safe_dump(document, allow_unicode=True))
    assert (code, err) == (0, "") or (code == 2 and err.startswith("error: ") and err.count("\n") == 1), err


@settings(max_examples=_examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
@example(text="name: x\nextends: \"\\n\"\n")
@example(text="name: &a x\ndescription: *a\n")
@example(text="name: x\nhorizon_days: 1_000\n")
@example(text="name: x\nextends: baseline\nseed: ' 1e4 '\n")
@example(text="name: x\n---\nname: y\n")
def test_random_text_files_exit_0_or_2(text):
    code, err = _validate(text)
    assert (code, err) == (0, "") or (code == 2 and err.startswith("error: ") and err.count("\n") == 1), err


@settings(max_examples=_examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=200), st.text(alphabet="[]{}:,-?!&*#'\"|>%@` \n\t\\ab1.", max_size=60)))
@example(text="x: [\n")
@example(text="%TAG ! !x\n--- !a b\n")
def test_every_strict_loader_answers_random_text_or_refuses_in_one_line(text):
    for loader in LOADERS.values():
        try:
            parse_yaml(text, "fuzz.yaml", loader)
        except InputError as error:
            assert "\n" not in str(error) and str(error).startswith("fuzz.yaml: "), (loader, str(error))


# --- the sweep loader ----------------------------------------------------------------------------

axis_specs = st.fixed_dictionaries(
    {},
    optional={"name": values, "set": st.one_of(st.sampled_from(["agents.UK.troops", "agents.UK.trops",
                                                                "model.deterrence_weight", "seed"]),
                                               values),
              "scale": values, "values": st.one_of(st.sampled_from(["0:10:3", "1:1:2", "a:b:c", "5:0:0"]), values),
              "bounds": st.one_of(st.lists(st.floats(-10, 10), max_size=3), values)},
)
sweep_documents = st.fixed_dictionaries(
    {"name": st.one_of(st.just("fuzz"), values), "scenario": st.one_of(st.just(str(BASELINE)), values)},
    optional={"design": st.one_of(st.sampled_from(["grid", "lhs", "sobol", "magic"]), values),
              "axes": st.one_of(st.lists(axis_specs, max_size=3), values), "samples": values,
              "replications": values, "seed": values, "horizon_days": values, "fixed": values, "unknown": values},
)


@settings(max_examples=_examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=sweep_documents)
@example(document={"name": "..", "scenario": str(BASELINE), "axes": [{"set": "agents.UK.troops", "values": "\n"}]})
def test_random_sweep_documents_load_or_fail_with_one_line(document):
    from sim.experiments.sweep.design import load_sweep

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        try:
            load_sweep(path)
        except InputError as error:
            assert "\n" not in str(error) and str(error).startswith(str(path))
