"""A sweep's work in progress on disk: ``<out>.partial/``, so that an interrupted sweep can resume.

While a sweep runs, each finished point's record (:mod:`sim.experiments.sweep.records`) is appended as
one JSON line to ``points.jsonl`` and forced to disk, so memory stays flat and an interruption (Ctrl-C,
SIGTERM, a killed worker) loses only the points in flight. ``sweep.json`` holds the sweep's definition
and hash; ``--resume`` continues only the same sweep, and trusts a saved line only once it has checked
every field and its point's digest. The folder holds nothing else: it is deleted once the sweep's
folder is written, and only if nothing foreign was put into it (:func:`sim.outputs.atomic.discard_partial`).
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from sim.core.errors import InputError
from sim.experiments.sweep.design import Sweep
from sim.experiments.sweep.records import max_record_bytes, sweep_record_problem
from sim.outputs.artefacts import write_json
from sim.outputs.atomic import discard_partial
from sim.outputs.ownership import OUT_FLAG, refuse

PARTIAL_SUFFIX = ".partial"
"""The folder of completed points is ``<out>.partial`` beside the output folder."""

RECORDS_FILE = "points.jsonl"
DEFINITION_FILE = "sweep.json"
OWN_FILES = frozenset({RECORDS_FILE, DEFINITION_FILE})
"""The only files a partial folder holds; it is deleted only when it holds nothing else."""


def partial_dir(out_dir: str | Path) -> Path:
    """Where completed points of ``out_dir``'s sweep are kept until the sweep finishes."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + PARTIAL_SUFFIX)


class RecordStore:
    """Append-only, flushed per-point records in a partial folder, locked against a second writer.

    Use :meth:`open`; ``done`` holds the points already on disk; ``created`` says whether this session
    created the folder. It is a :class:`~sim.experiments.sweep.result.Records`.
    """

    def __init__(self, folder: Path, sweep: Sweep, created: bool = False) -> None:
        self.folder = folder
        self.sweep = sweep
        self.created = created
        self.path = folder / RECORDS_FILE
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
            raise InputError(f"{self.path}: not a regular file, so not the saved points of a sweep; "
                             "move it away or choose another --out")
        self._file: BinaryIO = open(self.path, "a+b")  # noqa: SIM115 - closed by close()
        _lock(self._file, folder)
        self.offsets = self._scan()
        self.done = set(self.offsets)

    @classmethod
    def open(cls, folder: Path, sweep: Sweep, resume: bool = False, restart: bool = False) -> RecordStore:
        """Open (or create) the partial folder of ``sweep``.

        Raises:
            InputError: the folder holds a file a sweep did not write; earlier points exist but neither
                ``resume`` nor ``restart`` is given; ``resume`` is given and the sweep's hash changed.
        """
        digest = sweep.digest()
        if _exists(folder) and (resume or restart):
            flag = "--restart" if restart else "--resume"
            _check_own(folder, flag)
            if restart:
                with open(folder / RECORDS_FILE, "a+b") as handle:
                    _lock(handle, folder)  # refuse to discard the points of a sweep that is still running
                discard_partial(folder, set(OWN_FILES), flag)
        if folder.exists():
            saved = _saved_hash(folder)
            if not resume:
                count = _count_lines(folder / RECORDS_FILE)
                raise InputError(f"{folder}: an interrupted sweep is saved here ({count} of {sweep.n_points} points "
                                 "done); add --resume to continue it or --restart to discard it")
            if saved != digest:
                raise InputError(f"{folder}: --resume: the sweep has changed since these points were computed "
                                 f"(hash {saved[:12]} now {digest[:12]}); use --restart to discard them")
            return cls(folder, sweep)
        folder.mkdir(parents=True)
        write_json({"sweep_hash": digest, "name": sweep.name, "sweep": sweep.definition()}, folder / DEFINITION_FILE)
        return cls(folder, sweep, created=True)

    def _scan(self) -> dict[int, int]:
        """Byte offset of each point's record, every record checked; drops a torn last line (killed mid-write).

        Raises:
            InputError: a line is not a valid record (not UTF-8 JSON, keys missing, values of the wrong
                type or out of range, a digest that is not its point's, a point saved twice with
                different figures); names the line.
        """
        offsets: dict[int, int] = {}
        digests: dict[int, str] = {}
        limit = max_record_bytes(self.sweep.base.horizon_days)
        self._file.seek(0)
        position = 0
        for number, line in enumerate(iter(lambda: self._file.readline(limit), b""), start=1):
            if not line.endswith(b"\n"):
                if len(line) >= limit:
                    self._damaged(number, f"longer than any record ({limit:,} bytes)")
                self._file.truncate(position)
                break
            record = _parse(line)
            problem = sweep_record_problem(record, self.sweep, digests)
            if problem:
                self._damaged(number, problem)
            point = int(record["point"])
            if point in offsets:
                self._check_duplicate(point, line, offsets[point], number)
            offsets.setdefault(point, position)
            position += len(line)
        self._file.seek(0, os.SEEK_END)
        return offsets

    def _check_duplicate(self, point: int, line: bytes, first: int, number: int) -> None:
        """A point saved twice must be saved with the same figures (a resumed point finished twice)."""
        with open(self.path, "rb") as handle:
            handle.seek(first)
            if json.loads(handle.readline()) != json.loads(line):
                self._damaged(number, f"point {point} was saved before with different figures")

    def _damaged(self, number: int, problem: str) -> None:
        raise InputError(f"{self.path}: line {number}: {problem}; delete the line or use --restart")

    def append(self, record: dict[str, Any]) -> None:
        """Write one point's record and force it to disk."""
        line = json.dumps(record, separators=(",", ":")) + "\n"
        position = self._file.seek(0, os.SEEK_END)
        self._file.write(line.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.offsets.setdefault(int(record["point"]), position)
        self.done.add(int(record["point"]))

    def read(self, point: int) -> dict[str, Any]:
        """The record of one point, read back from disk."""
        self._file.seek(self.offsets[point])
        return json.loads(self._file.readline())

    def saved(self) -> str:
        """What is kept, and how to continue: for the message of an interrupted or failed sweep."""
        if not self.done:
            return "no point had finished, so nothing is saved"
        return (f"{len(self.done)} of {self.sweep.n_points} points are saved in {self.folder}; "
                "rerun the same command with --resume to continue")

    def discard(self, flag: str = OUT_FLAG) -> None:
        """Close the store and delete its folder, which must hold only a sweep's own files.

        Raises:
            InputError: the folder holds anything else; nothing is deleted.
        """
        self.close()
        discard_partial(self.folder, set(OWN_FILES), flag)

    def close(self) -> None:
        """Release the lock and the file."""
        self._file.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock(handle: BinaryIO, folder: Path) -> None:
    """An exclusive advisory lock, so two sweeps never append to the same records."""
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise InputError(f"{folder}: another sweep is writing here; wait for it or choose another --out") from None


def _exists(folder: Path) -> bool:
    """Whether the partial folder exists; refuses one that is not a real folder (a file, a link)."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise InputError(f"{folder}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(mode):
        raise InputError(f"{folder}: exists and is not a folder (a sweep keeps its unfinished points there); "
                         "move it away or choose another --out")
    return True


def _check_own(folder: Path, flag: str) -> None:
    """A partial folder is used or deleted only if it holds nothing but a sweep's own files (whose type the
    store checks as it opens them)."""
    foreign = sorted(entry.name for entry in folder.iterdir() if entry.name not in OWN_FILES)
    if foreign:
        raise refuse(folder, flag, f"holds a file a sweep did not write ({foreign[0][:60]}), so {flag} will "
                                   "neither use nor delete it; move it away or choose another --out")


def _parse(line: bytes) -> Any:
    """A JSON line as data, or None if it is not UTF-8 JSON."""
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None


def _saved_hash(folder: Path) -> str:
    try:
        return str(json.loads((folder / DEFINITION_FILE).read_text(encoding="utf-8"))["sweep_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{folder}: not the partial results of a sweep ({DEFINITION_FILE} missing or damaged); "
                         "delete it or use --restart") from None


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.endswith(b"\n"))
