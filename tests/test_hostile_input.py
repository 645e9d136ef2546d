"""Hostile and careless input files and flags: each test is named for the failure it pins.

Every case ends in one line naming the file (and the line or field), exit code 2, and bounded time
and memory. No real device is touched: device nodes are simulated by a patched ``os.stat``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.cli.main import main
from sim.core.errors import InputError, shown
from sim.core.strict_yaml import (
    LOADERS,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_DIRECTIVES,
    MAX_NODES,
    MAX_TEXT_CHARS,
    StrictLoader,
    load_yaml,
    parse_yaml,
)
from sim.experiments.sweep.design import MAX_AXES, SOBOL_MIN_SAMPLES, load_sweep, parse_values, quick_sweep
from sim.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def alias_bomb(field: str) -> str:
    """A "billion laughs" document: nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ["l0: &l0 [" + ",".join(["lol"] * 9) + "]"]
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\n{field}: *l8\n"


def validate(path: Path) -> tuple[int, str]:
    """Exit code and stderr of ``ceasefire validate PATH``, in process."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(path)])
    return code, err.getvalue()


def refusal(action, *args, **kwargs) -> str:
    """The message of the InputError ``action(*args)`` raises; it must be one line."""
    with pytest.raises(InputError) as caught:
        action(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, message
    return message


def sweep_file(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"name: hostile\nscenario: {BASELINE}\nreplications: 20\nhorizon_days: 30\n{body}",
                    encoding="utf-8")
    return path


# --------------------------------------------------------------------------- memory and time


def test_alias_bomb_in_name_no_longer_expands_to_gigabytes(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb("name"), encoding="utf-8")
    assert len(bomb.read_bytes()) < 500
    probe = (
        "import re, sys, time, tracemalloc\n"
        "from sim.cli.main import main\n"
        "import sim.spec.scenario  # imported ahead: the clock times the refusal, not Python's start-up\n"
        "tracemalloc.start(); start = time.perf_counter()\n"
        "code = main(['validate', sys.argv[1]])\n"
        "seconds = time.perf_counter() - start; peak = tracemalloc.get_traced_memory()[1]\n"
        "status = open('/proc/self/status').read()  # VmHWM: this process's peak; ru_maxrss inherits pytest's\n"
        "print(code, seconds, peak, re.search(r'VmHWM:\\s*(\\d+) kB', status).group(1))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(bomb)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    code, seconds, traced, max_rss_kb = done.stdout.split()
    assert int(code) == 2
    assert float(seconds) < 2.0
    assert int(traced) < 200e6 and int(max_rss_kb) < 200 * 1024  # the whole process, imports included
    assert done.stderr.count("\n") == 1 and "aliases" in done.stderr


def test_alias_bomb_under_fixed_of_a_sweep_is_refused(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, alias_bomb("fixed") + "axes: []\n")
    assert "anchors and aliases" in refusal(load_sweep, path)


def test_deep_nesting_gives_one_line_not_a_recursion_traceback(write_yaml) -> None:
    path = write_yaml("name: x\nagents: " + "[" * 500 + "]" * 500 + "\n")
    message = refusal(load_scenario, path)
    assert message.startswith(f"{path}: line 2") and f"nested deeper than {MAX_DEPTH} levels" in message


def test_file_over_the_size_cap_is_refused_before_parsing(write_yaml) -> None:
    path = write_yaml("name: x\n" + "# padding\n" * (MAX_BYTES // 10 + 1))
    assert "larger than 1,000,000" in refusal(load_scenario, path)


def flow_list(items: int) -> str:
    """``x: [1,1,...]``: a mapping, its key, the list and ``items`` numbers are ``items + 3`` nodes."""
    return "x: [" + ",".join(["1"] * items) + "]\n"


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_node_budget_admits_max_nodes_and_refuses_one_more(loader) -> None:
    assert len(parse_yaml(flow_list(MAX_NODES - 3), "x.yaml", loader)["x"]) == MAX_NODES - 3
    message = refusal(parse_yaml, flow_list(MAX_NODES - 2), "x.yaml", loader)
    assert message.startswith("x.yaml: line 1, column ") and f"more than {MAX_NODES:,} values" in message


def test_a_megabyte_flow_list_is_counted_while_parsed_not_built_first() -> None:
    text = flow_list((MAX_BYTES - 10) // 2)
    reader = StrictLoader(text)
    with pytest.raises(yaml.MarkedYAMLError, match=f"more than {MAX_NODES:,} values") as caught:
        reader.get_single_data()
    reader.dispose()
    # the refused node is item MAX_NODES - 2 of the list, at column 5 + 2 * (MAX_NODES - 3): nothing after it was read
    assert reader.nodes == MAX_NODES + 1
    assert caught.value.problem_mark.column + 1 == 5 + 2 * (MAX_NODES - 3) < len(text) // 40


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_text_longer_than_the_cap_is_refused(loader) -> None:
    assert parse_yaml("d: " + "a" * MAX_TEXT_CHARS + "\n", "x.yaml", loader) == {"d": "a" * MAX_TEXT_CHARS}
    assert refusal(parse_yaml, "d: '" + "a" * (MAX_TEXT_CHARS + 1) + "'\n", "x.yaml", loader) == (
        f"x.yaml: line 1, column 4: text of {MAX_TEXT_CHARS + 1:,} characters; at most {MAX_TEXT_CHARS:,}")


def test_directive_lines_are_counted_before_parsing() -> None:
    directives = "".join(f"%TAG !t{i}! tag:x,2000:\n" for i in range(MAX_DIRECTIVES))
    assert parse_yaml(directives + "---\nname: x\n", "x.yaml") == {"name": "x"}
    assert refusal(parse_yaml, directives + "%YAML 1.2\n---\nname: x\n", "x.yaml").startswith(
        f"x.yaml: line {MAX_DIRECTIVES + 1}: more than {MAX_DIRECTIVES} lines starting with '%'")


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_a_second_document_is_refused_in_one_line(loader) -> None:
    assert refusal(parse_yaml, "name: x\n---\nname: y\n", "x.yaml", loader) == (
        "x.yaml: line 2, column 1: a second document (after ---); give one document per file")


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_a_control_character_is_refused_with_its_line_and_column(loader) -> None:
    assert refusal(parse_yaml, "name: x\ndescription: a\x07b\n", "x.yaml", loader) == (
        "x.yaml: not valid YAML at line 2, column 15: character '\\x07' is not allowed")


HOSTILE_DOCUMENTS = [
    "x: &a 1\ny: *a\n", "x: [" * 40 + "]" * 40, "a: 1\na: 2\n", "x: 1_000\n", "x: yes\n", "x: !!binary aGk=\n",
    "x: [\n", "x: 1\n  y: 2\n", "? [a]\n: 1\n", "x: 0x1F\n", "x: .inf\n", "x: 1e3\n", "",
]


@pytest.mark.parametrize("text", HOSTILE_DOCUMENTS)
def test_libyaml_and_pure_python_loaders_give_the_same_answer(text: str) -> None:
    answers = set()
    for loader in LOADERS.values():
        try:
            answers.add(repr(parse_yaml(text, "x.yaml", loader)))
        except InputError as error:  # libyaml words some syntax errors differently: the place must agree
            answers.add(str(error).split(": ")[1] if "not valid YAML" in str(error) else str(error))
    assert len(answers) == 1, answers


def test_a_megabyte_of_any_shape_is_refused_in_2_s_and_200_mb() -> None:
    """The budgets are measured by benchmarks/bench_hostile_yaml.py in a process of its own (imports included)."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_hostile_yaml.py"), "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) >= 20, done.stderr
    for record in records:
        assert record["code"] == 2 and record["message"].startswith("error: "), record
        assert record["bytes"] > 0.8 * MAX_BYTES and record["seconds"] < 2.0 and record["peak_mb"] < 200, record
    assert done.returncode == 0


# --------------------------------------------------------------------------- what is read


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(fifo)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"error: {fifo}: not a regular file (a FIFO, device or socket); give a YAML file\n"


def test_device_node_is_refused_without_being_opened(write_yaml, monkeypatch) -> None:
    path = write_yaml("name: x\n")
    real_stat = os.stat
    device = os.stat_result((stat.S_IFCHR | 0o666, 0, 0, 1, 0, 0, 0, 0, 0, 0))
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: device if Path(p) == path else real_stat(p, *a, **k))

    def no_open(*args, **kwargs):
        raise AssertionError("a device node was opened")

    monkeypatch.setattr(os, "open", no_open)
    assert "not a regular file" in refusal(load_scenario, path)


def test_folder_given_as_scenario_is_refused(tmp_path: Path) -> None:
    code, err = validate(tmp_path)
    assert (code, err) == (2, f"error: {tmp_path}: is a folder; give a YAML file\n")


# --------------------------------------------------------------------------- silent coercions


def test_duplicate_key_is_refused_naming_key_and_line(write_yaml) -> None:
    path = write_yaml("name: x\nreplications: 5\nreplications: 50\n")
    expected = f"{path}: line 3, column 1: duplicate key 'replications' (give each key once)"
    assert refusal(load_scenario, path) == expected


def test_duplicate_nested_key_is_refused(write_yaml) -> None:
    path = write_yaml("name: x\nagents:\n  UK: {troops: 1, troops: 2}\n")
    assert "line 3" in refusal(load_scenario, path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("replications: true\n", "replications: must be a number, not true"),
        ("seed: false\n", "seed: must be a number, not false"),
        ("agents:\n  UK: {resolve: yes}\n", "agents.UK.resolve: input should be a valid number"),
        ("agents:\n  UK: {troops: on}\n", "agents.UK.troops: input should be a valid number"),
        ("agents:\n  UK: {troops: true}\n", "agents.UK.troops: must be a number, not true"),
        ("horizon_days: 1:30\n", "horizon_days: input should be a valid integer"),
        ("horizon_days: 0x10\n", "horizon_days: input should be a valid integer"),
        ("agents:\n  UK: {permanent_bases: yes}\n", "agents.UK.permanent_bases: input should be a valid boolean"),
        ("agents:\n  UK: {troops: !!binary aGVsbG8=}\n", "could not determine a constructor"),
        ("model: {<<: {troop_scale: 5}}\n", "model.<<: unknown key"),
    ],
)
def test_yaml_1_1_surprises_and_booleans_for_numbers_are_refused(write_yaml, text, expected) -> None:
    path = write_yaml("name: x\n" + text)
    assert expected in refusal(load_scenario, path)


def test_leading_zero_is_decimal_not_octal(write_yaml) -> None:
    assert load_scenario(write_yaml("name: x\nreplications: 010\n")).replications == 10


def test_dates_yes_and_underscored_numbers_stay_text(write_yaml) -> None:
    assert load_yaml(write_yaml("a: 2024-01-01\nb: yes\nc: 1:30\nd: 1e3\ne: ~\nf: True\ng: 1_000\n")) == {
        "a": "2024-01-01", "b": "yes", "c": "1:30", "d": 1000.0, "e": None, "f": "True", "g": "1_000"}


@pytest.mark.parametrize(
    ("text", "field", "number"),
    [
        ("horizon_days: 1_000\n", "horizon_days", "1000"),
        ("horizon_days: '100'\n", "horizon_days", "100"),
        ("agents:\n  UK: {troops: ' 1e4 '}\n", "agents.UK.troops", "1e4"),
        ('replications: "5_0"\n', "replications", "50"),
        ("model: {troop_scale: '0.5'}\n", "model.troop_scale", "0.5"),
        ("seed: '+7'\n", "seed", "+7"),
    ],
)
def test_numbers_written_as_text_are_refused_saying_how_to_write_them(write_yaml, text, field, number) -> None:
    path = write_yaml("name: x\n" + text)
    expected = f"{path}: {field}: write the number without underscores or quotes, e.g. {number}"
    assert refusal(load_scenario, path) == expected
    assert validate(path) == (2, f"error: {expected}\n")


def test_text_that_is_no_number_is_left_to_the_schema(write_yaml) -> None:
    assert "model.troop_scale: input should be a valid number" in refusal(
        load_scenario, write_yaml("name: x\nmodel: {troop_scale: '.nan'}\n"))
    assert load_scenario(write_yaml("name: '100'\n")).name == "100"  # text where text goes


def test_a_number_written_as_text_in_a_parent_names_the_parent(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text("name: parent\nhorizon_days: '100'\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nname: child\n")
    assert refusal(load_scenario, tmp_path / "child.yaml") == (
        f"{tmp_path / 'parent.yaml'}: horizon_days: write the number without underscores or quotes, e.g. 100")


def test_sweep_settings_refuse_numbers_written_as_text(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, "design: lhs\nsamples: '1_0'\naxes:\n  - set: agents.UK.troops\n    bounds: [0, 1]\n")
    assert refusal(load_sweep, path) == f"{path}: samples: write the number without underscores or quotes, e.g. 10"


def test_sweep_settings_refuse_booleans(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, "design: lhs\nsamples: true\naxes:\n  - set: agents.UK.troops\n    bounds: [0, 1]\n")
    assert refusal(load_sweep, path) == f"{path}: samples: must be a number, not true"


# --------------------------------------------------------------------------- names and extends


@pytest.mark.parametrize("name", [".", "..", ".hidden", "a/b", "-x"])
def test_names_that_are_not_plain_folder_names_are_refused_by_validate(write_yaml, name) -> None:
    path = write_yaml(f"name: '{name}'\n")
    code, err = validate(path)
    assert code == 2 and err.startswith(f"error: {path}: name: ") and err.count("\n") == 1


def test_sweep_named_dot_dot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dots.yaml"
    path.write_text(f"name: '..'\nscenario: {BASELINE}\naxes:\n  - set: agents.UK.troops\n    values: [1, 2]\n")
    assert refusal(load_sweep, path).startswith(f"{path}: name: may contain only")


@pytest.mark.parametrize("target", ["../outside.yaml", "sub/../../outside.yaml", "{outside}", "..\\outside.yaml"])
def test_extends_cannot_leave_the_scenario_folder(tmp_path: Path, target: str) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("name: outside\n")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    child = folder / "child.yaml"
    child.write_text(f"extends: '{target.format(outside=outside)}'\nname: child\n")
    assert "extends: must be a file in this file's folder" in refusal(load_scenario, child)


@pytest.mark.parametrize("link", ["link.yaml", "baseline"])  # a file beside wins over a bundled name, rules kept
def test_extends_through_a_symlink_out_of_the_folder_is_refused(tmp_path: Path, link: str) -> None:
    (tmp_path / "outside.yaml").write_text("name: outside\n")
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / link).symlink_to(tmp_path / "outside.yaml")
    (folder / "child.yaml").write_text(f"extends: {link}\nname: child\n")
    assert "links out of this file's folder" in refusal(load_scenario, folder / "child.yaml")


def two_links_to_each_other(folder: Path) -> tuple[Path, Path]:
    a, b = folder / "a.yaml", folder / "b.yaml"
    a.symlink_to(b)
    b.symlink_to(a)
    return a, b


def test_two_scenario_files_linked_to_each_other_are_one_line(tmp_path: Path) -> None:
    a, _ = two_links_to_each_other(tmp_path)
    code, err = validate(a)
    assert (code, err) == (2, f"error: {a}: a loop of symbolic links; give the file itself\n")


def test_extends_through_a_loop_of_links_is_one_line(tmp_path: Path) -> None:
    two_links_to_each_other(tmp_path)
    (tmp_path / "child.yaml").write_text("extends: a.yaml\nname: child\n")
    assert refusal(load_scenario, tmp_path / "child.yaml") == (
        f"{tmp_path / 'child.yaml'}: extends: 'a.yaml': a loop of symbolic links; give the file itself")


def test_extends_back_to_itself_through_a_link_is_circular(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text("extends: alias.yaml\nname: child\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "child.yaml")
    assert "extends: circular chain" in refusal(load_scenario, tmp_path / "child.yaml")


def test_extends_a_file_in_a_subfolder_works(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    (tmp_path / "child.yaml").write_text("extends: base/baseline.yaml\nname: child\nreplications: 7\n")
    scenario = load_scenario(tmp_path / "child.yaml")
    assert (scenario.name, scenario.replications) == ("child", 7)


# --------------------------------------------------------------------------- sweep designs


@pytest.mark.parametrize("param", ["a.b=0:1:10000000", "agents.UK.troops=0:1:10000000",
                                   "agents.UK.troops=0:1:10000000000"])
def test_huge_param_range_is_refused_before_anything_is_built(param: str) -> None:
    start = time.perf_counter()
    message = refusal(quick_sweep, BASELINE, [param])
    assert time.perf_counter() - start < 2.0
    assert "points; at most 1,000,000" in message


def test_huge_range_is_counted_not_built() -> None:
    assert "steps; a design has at most 1,000,000" in refusal(parse_values, "0:1:10000000000", "x")


def test_repeated_grid_values_are_still_found() -> None:
    assert refusal(parse_values, "0,1,2,1", "x") == "x: value 1 is repeated"


def test_more_than_50_param_axes_are_refused() -> None:
    params = [f"agents.UK.troops=0,{i + 1}" for i in range(MAX_AXES + 1)]
    assert refusal(quick_sweep, BASELINE, params) == "--param: at most 50 axes (got 51)"


@pytest.mark.parametrize("samples", [1, 2, 4])
def test_sobol_design_too_small_to_estimate_anything_is_refused(tmp_path: Path, samples: int) -> None:
    path = sweep_file(tmp_path, f"design: sobol\nsamples: {samples}\naxes:\n"
                                "  - set: agents.UK.troops\n    bounds: [0, 1000]\n")
    assert f"samples: at least {SOBOL_MIN_SAMPLES} for a Sobol design (got {samples};" in refusal(load_sweep, path)


def test_sobol_design_at_the_minimum_is_accepted(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, f"design: sobol\nsamples: {SOBOL_MIN_SAMPLES}\naxes:\n"
                                "  - set: agents.UK.troops\n    bounds: [0, 1000]\n")
    assert load_sweep(path).n_points == SOBOL_MIN_SAMPLES * 3


@pytest.mark.parametrize(
    ("axis", "expected"),
    [
        ("set: agents.DE.deployment_delay_days\n    values: [0.1, 0.2, 0.3]",
         "axes.0.values: agents.DE.deployment_delay_days takes whole numbers (days); value 0.1 is not one"),
        ("scale: agents.DE.deployment_delay_days\n    values: [1, 1.001]",  # 180 days x 1.001
         "value 1.001 gives 180.18 is not one"),
    ],
)
def test_day_axis_with_fractional_values_is_refused_not_rounded(tmp_path: Path, axis: str, expected: str) -> None:
    assert expected in refusal(load_sweep, sweep_file(tmp_path, f"axes:\n  - {axis}\n"))


def test_day_axis_in_a_sampled_design_is_refused(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, "design: lhs\nsamples: 10\naxes:\n"
                                "  - set: agents.DE.deployment_delay_days\n    bounds: [0, 100]\n")
    assert "takes whole numbers (days) and a lhs design draws fractions" in refusal(load_sweep, path)


def test_day_axis_with_whole_values_is_accepted(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path, "axes:\n  - set: agents.DE.deployment_delay_days\n    values: 0:90:4\n"))
    assert [sweep.scenario_at(i).agents.DE.deployment_delay_days for i in range(4)] == [0, 30, 60, 90]


# --------------------------------------------------------------------------- one line, short echoes


@pytest.mark.parametrize(
    "text",
    [
        'name: x\nextends: "\\n"\n',
        'name: x\nextends: "a\\nb.yaml"\n',
        'name: "x\\ny"\n',
        'name: x\n"bad\\nkey": 1\n',
        'name: x\nagents:\n  "U\\rK": {}\n',
        'name: x\nmodel:\n  troop_scale: "\\e[31mred\\u2028"\n',
        "name: x\ndescription: [\n",
    ],
)
def test_error_messages_never_contain_a_raw_newline_or_control_character(write_yaml, text: str) -> None:
    message = refusal(load_scenario, write_yaml(text))
    assert message.isprintable(), message


def test_sweep_errors_escape_newlines_in_values(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, 'axes:\n  - set: agents.UK.troops\n    values: "1\\n2"\n')
    assert refusal(load_sweep, path).isprintable()


def test_long_echoed_values_are_truncated(write_yaml) -> None:
    message = refusal(load_scenario, write_yaml("name: x\nmodel: {troop_scale: '" + "z" * MAX_TEXT_CHARS + "'}\n"))
    assert len(message) < 400 and "…" in message


def test_input_error_is_one_line_whatever_the_call_site_wrote() -> None:
    assert str(InputError("a\nb\x1b[0m")) == "a\\nb\\x1b[0m"
    assert len(str(InputError("x" * 10**6))) == 2000


def test_shown_clips_and_escapes() -> None:
    assert shown("\n") == "'\\n'"
    assert shown(-5) == "-5"
    assert shown("y" * 100) == "'" + "y" * 58 + "…"
