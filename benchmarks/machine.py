"""One line naming the machine a benchmark ran on: the figures differ 2-3x between machines
(docs/performance.md), and the ratio of numpy's speed to pure Python's differs with them."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path


def _cpu() -> tuple[str, bool | None]:
    """The processor's model name and whether it has AVX-512 (None where /proc/cpuinfo is not there)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine(), None
    fields: dict[str, str] = {}
    for line in text.splitlines():  # "key\t: value"; the first processor's lines are enough
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = " ".join(fields.get("model name", platform.machine()).split())
    flags = fields.get("flags", "").split()
    return name, any(flag.startswith("avx512") for flag in flags)


def describe() -> str:
    """``machine: <cpu> (AVX-512: yes/no), <n> cores; Python x, numpy y, Mesa z``."""
    name, avx512 = _cpu()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    simd = "" if avx512 is None else f" (AVX-512: {'yes' if avx512 else 'no'})"
    versions = ", ".join(f"{package} {metadata.version(package)}" for package in ("numpy", "Mesa"))
    return f"machine: {name}{simd}, {cores} cores; Python {sys.version.split()[0]}, {versions}"


if __name__ == "__main__":
    print(describe())
