"""Benchmark: one megabyte of hostile YAML, of every shape, is refused in under 2 s and 200 MB.

Not a test: it writes a document of just under :data:`sim.core.strict_yaml.MAX_BYTES` for each shape
(a flow list ``x: [1,1,1,...]``, many keys, deep nesting, one long string, blank lines, comments, ...),
gives each to ``ceasefire validate`` (and the sweep shapes to the sweep loader) in this process, and
prints the seconds each refusal took and the process's peak resident memory while it ran (Linux's
VmHWM, reset before each shape where the kernel allows it; imports included). It exits 1 when a shape
is accepted, answers with more than one line, or exceeds the budgets. ``tests/test_hostile_input.py``
runs it in a subprocess.

Run with ``python benchmarks/bench_hostile_yaml.py`` (``--json`` for machine-readable lines).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.cli.main import main  # noqa: E402
from sim.core.errors import InputError  # noqa: E402
from sim.core.strict_yaml import MAX_BYTES  # noqa: E402
from sim.experiments.sweep.design import load_sweep  # noqa: E402

SECONDS = 2.0
"""Longest a refusal may take, in seconds."""
PEAK_MB = 200
"""Most resident memory the process may reach, imports included, in MB."""
SIZE = MAX_BYTES - 1_000
"""Bytes of each document: the largest a reader accepts, less room for the fixed parts."""


def repeated(head: str, unit: str, tail: str = "") -> str:
    """``head`` + ``unit`` repeated + ``tail``, :data:`SIZE` bytes at most (ASCII units)."""
    return head + unit * ((SIZE - len(head) - len(tail)) // len(unit)) + tail


SCENARIO_SHAPES: dict[str, Callable[[], str]] = {
    "flow list": lambda: repeated("name: x\nagents: [", "1,", "1]\n"),
    "block list": lambda: repeated("name: x\nagents:\n", "- 1\n"),
    "flow mapping": lambda: repeated("name: x\nmodel: {", "a: 1, ", "b: 2}\n"),
    "many keys": lambda: "name: x\n" + "".join(f"k{i}: 1\n" for i in range(SIZE // 12)),
    "nested lists": lambda: repeated("name: x\nagents: [", "[1],", "[1]]\n"),
    "empty mappings": lambda: repeated("name: x\nagents: [", "{},", "{}]\n"),
    "tagged items": lambda: repeated("name: x\nagents: [", "!!str a,", "a]\n"),
    "deep flow nesting": lambda: repeated("name: x\nagents: ", "["),
    "deep block nesting": lambda: "name: x\nagents:\n" + "".join(" " * i + "- \n" for i in range(1_380)),
    "long plain string": lambda: repeated("name: x\ndescription: ", "a", "\n"),
    "long quoted string": lambda: repeated('name: x\ndescription: "', "\\t", '"\n'),
    "long block scalar": lambda: repeated("name: x\ndescription: |\n", "  " + "a" * 60 + "\n"),
    "long key": lambda: repeated("name: x\n", "a", ": 1\n"),
    "long number": lambda: repeated("name: x\nseed: ", "9", "\n"),
    "comments": lambda: repeated("name: x\nhorizon_days: 0\n", "# a comment\n"),
    "blank lines": lambda: repeated("name: x\n", "\n", "horizon_days: 0\n"),
    "trailing spaces": lambda: repeated("name: x", " ", "\nhorizon_days: 0\n"),
    "directives": lambda: "".join(f"%TAG !t{i}! tag:x,2000:\n" for i in range(SIZE // 30)) + "---\nname: x\n",
    "documents": lambda: repeated("", "--- {name: x}\n"),
}
"""Scenario files, each refused by ``ceasefire validate`` (too many values, too deep, or a field is wrong)."""

SWEEP_HEAD = "name: hostile\nscenario: baseline\naxes:\n  - set: agents.UK.troops\n"
SWEEP_SHAPES: dict[str, Callable[[], str]] = {
    "sweep values flow list": lambda: repeated(SWEEP_HEAD + "    values: [", "1,", "1]\n"),
    "sweep values text": lambda: repeated(SWEEP_HEAD + "    values: '", "1,", "1'\n"),
    "sweep many axes": lambda: repeated("name: hostile\nscenario: baseline\naxes:\n",
                                        "  - {set: agents.UK.troops, values: [1, 2]}\n"),
    "sweep fixed keys": lambda: "name: hostile\nscenario: baseline\nfixed:\n" + "".join(
        f"  k{i}: 1\n" for i in range(SIZE // 12)),
}
"""Sweep files, each refused by the sweep loader."""


def reset_peak() -> None:
    """Start Linux's peak-memory count (VmHWM) afresh, where the kernel lets a process do so."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ``ru_maxrss`` where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def validate(path: Path) -> tuple[int, str]:
    """Exit code and stderr of ``ceasefire validate PATH``."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(path)])
    return code, err.getvalue()


def sweep(path: Path) -> tuple[int, str]:
    """2 and the message when the sweep loader refuses ``path``, else 0 and ''."""
    try:
        load_sweep(path)
    except InputError as error:
        return 2, f"error: {error}\n"
    return 0, ""


def measure(folder: Path) -> list[dict[str, object]]:
    """One record per shape: name, bytes, exit code, message, seconds, peak MB, and whether it kept to budget."""
    records = []
    cases = [(name, make, validate) for name, make in SCENARIO_SHAPES.items()]
    cases += [(name, make, sweep) for name, make in SWEEP_SHAPES.items()]
    for name, make, check in cases:
        path = folder / (name.replace(" ", "_") + ".yaml")
        path.write_text(make(), encoding="ascii")
        reset_peak()
        start = time.perf_counter()
        code, message = check(path)
        seconds = time.perf_counter() - start
        peak = peak_mb()
        ok = code == 2 and message.count("\n") == 1 and seconds < SECONDS and peak < PEAK_MB
        records.append({"shape": name, "bytes": path.stat().st_size, "code": code, "message": message.strip(),
                        "seconds": round(seconds, 4), "peak_mb": round(peak, 1), "ok": ok})
        path.unlink()
    return records


def main_benchmark() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per shape")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        records = measure(Path(tmp))
    for record in records:
        if args.json:
            print(json.dumps(record))
        else:
            print(f"{'ok  ' if record['ok'] else 'OVER'} {record['shape']:24} {record['bytes']:>9,} bytes "
                  f"{record['seconds']:7.3f} s {record['peak_mb']:6.0f} MB  {str(record['message'])[:90]}")
    if not args.json:
        print(f"budgets: refused (exit 2, one line) in < {SECONDS} s and < {PEAK_MB} MB peak, imports included")
    return 0 if all(record["ok"] for record in records) else 1


if __name__ == "__main__":
    sys.exit(main_benchmark())
