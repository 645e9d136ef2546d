"""Version 2 stays reproducible: ``scenarios/legacy_v2.yaml`` writes, byte for byte, the CSV files that the
baseline wrote before the layered layout and model v3 (commit eb178c1, the last commit before the move).

The hashes below were taken by running commit eb178c1's own ``ceasefire run baseline`` and ``ceasefire
sweep`` with the same seeds; only ``summary.csv`` is left out of the run, since its first column is the
scenario's name (``baseline`` then, ``legacy_v2`` now). A change to the engine that alters a single
random draw or a single rounding of version 2's arithmetic changes these bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sim.cli.main import main

ROOT = Path(__file__).resolve().parent.parent

RUN_BEFORE_THE_MOVE = {
    "runs.csv": "0fee7f0db175a01335fa16a8b09a7b0081801ff32df80ba8de13c6e0884ea15c",
    "survival.csv": "16f36b38a25eb9abf145d1c4faac267aebd1b4aa9c2d99c91e83b58be1e2a02b",
    "intent.csv": "423ca69c07e02d74eba8ab74c4cf703f25ef6117748daf215e025326adf444e0",
    "trajectories.csv": "4c118c636a99c5b7939c2ea688ff5c59245b22d37e1ae6c7f47a9c89858e8fda",
}
"""eb178c1: ``ceasefire run baseline --replications 2000 --seed 5 --horizon 1000 --no-plots``."""

SWEEP_BEFORE_THE_MOVE = {
    "sweep.csv": "6252dd041f255c7624cb7effb70e757eed80f88a037e8432a627078e383aeb09",
    "survival.csv": "b49e8bf1205759ca9abaf50a24a431b3339f80a13b04f8cb79361cb7ea29380e",
}
"""eb178c1: ``ceasefire sweep`` of the sweep below, on scenarios/baseline.yaml."""

SWEEP = """\
name: bytes_check
scenario: {scenario}
replications: 300
seed: 11
horizon_days: 400
design: grid
axes:
  - name: coalition_troops
    set: {{agents.UK.troops: 0.5, agents.FR.troops: 0.5}}
    values: "0:20000:3"
"""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_legacy_v2_runs_the_bytes_of_version_2(tmp_path):
    out = tmp_path / "legacy_v2"
    assert main(["run", "legacy_v2", "--replications", "2000", "--seed", "5", "--horizon", "1000", "--no-plots",
                 "--quiet", "--out", str(out)]) == 0
    assert {name: _sha256(out / name) for name in RUN_BEFORE_THE_MOVE} == RUN_BEFORE_THE_MOVE


def test_a_sweep_on_legacy_v2_writes_the_bytes_of_version_2(tmp_path):
    sweep = tmp_path / "bytes_check.yaml"
    sweep.write_text(SWEEP.format(scenario=ROOT / "scenarios" / "legacy_v2.yaml"), encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(sweep), "--no-plots", "--quiet", "--out", str(out)]) == 0
    assert {name: _sha256(out / name) for name in SWEEP_BEFORE_THE_MOVE} == SWEEP_BEFORE_THE_MOVE
