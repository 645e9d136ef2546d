"""What the tests of hostile users share: the inputs, a small run, and how an output and an error are checked."""

from __future__ import annotations

from pathlib import Path

from sim.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FOREIGN = b"\\documentclass{article}\n% a thesis, not ours\n"
TINY_RUN = ("--replications", "50", "--horizon", "30", "--quiet", "--no-plots")


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes), to show nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err
