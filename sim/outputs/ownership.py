"""What ``ceasefire`` may replace: only what it wrote, byte for byte, judged by content, never by look-alike.

Every output folder holds a ``manifest.json`` naming the command that wrote it and listing each file
it wrote with its size and SHA-256 (:func:`sim.outputs.artefacts.manifest`). A folder may be replaced
only when

- its manifest parses, carries our mark and names the same command;
- every entry of the folder is a regular file listed in the manifest (no extra file, link or folder);
- every listed file is present and unchanged (same size, same SHA-256).

Anything else is refused before any work, naming the first file that is foreign or changed. A single
output file (``compare --out``, ``report --out``) carries its own mark: a PNG text chunk or an HTML
meta tag holding the SHA-256 of the rest of the file; an existing file is replaced only when its mark
checks out (or with ``--force``). The project's committed data (``seeds/``, ``scenarios/`` and the
package copies) is never an output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import struct
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sim.core.bundled import DATA_DIR, checkout_root
from sim.core.errors import InputError

OUT_FLAG = "--out"
"""The command-line flag that names an output (the common option of :mod:`sim.cli.common`); messages name
an output by it unless the caller gives another (``DIR`` for ``ceasefire plot``)."""

MANIFEST = "manifest.json"
"""Every output folder of ``ceasefire`` holds one."""

WRITTEN_BY = "ceasefire"
"""The mark every manifest carries in its ``written_by`` field."""

MANIFEST_MAX_BYTES = 16 * 2**20
"""A larger ``manifest.json`` is not one of ours (and is not read)."""

HASH_CHUNK = 2**20
"""Bytes read at a time when hashing a file."""

NAME_MAX_BYTES = 255
"""Longest file name most file systems allow, in bytes."""

TEMPORARY_NAME_BYTES = 40
"""What the hidden temporary names beside an output add to its name (``.NAME.partial-XXXXXXXX``, lock)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_MARK_KEY = b"ceasefire-sha256"
"""Keyword of the PNG text chunk holding the SHA-256 of the image's other chunks."""

HTML_MARK = re.compile(r'<meta name="ceasefire-sha256" content="([0-9a-f]{64})">')
HTML_MARK_PLACEHOLDER = '<meta name="ceasefire-sha256" content="' + "0" * 64 + '">'
"""An HTML report's mark: a meta tag whose content is the SHA-256 of the document with the placeholder."""


def refuse(path: Path | str, flag: str, reason: str) -> InputError:
    """The one-line error for an output ``path`` given with ``flag``."""
    return InputError(f"{shown_path(path)}: {flag}: {reason}")


def shown_path(path: Path | str) -> str:
    """A path as it may appear in a message: bytes that are not UTF-8 shown as ``\\xNN``."""
    text = os.fsencode(path).decode("utf-8", errors="backslashreplace")
    return text


# --------------------------------------------------------------------------- hashing


def file_record(path: Path) -> dict[str, Any]:
    """``{"bytes": size, "sha256": hex}`` of a regular file (read without following a final symlink)."""
    digest = hashlib.sha256()
    size = 0
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def folder_records(folder: Path, skip: Iterable[str] = (MANIFEST,)) -> dict[str, dict[str, Any]]:
    """:func:`file_record` of every file in ``folder`` (flat), by name, in name order; ``skip`` left out."""
    skipped = set(skip)
    return {name: file_record(folder / name) for name in sorted(os.listdir(folder)) if name not in skipped}


# --------------------------------------------------------------------------- manifests


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder`` if it is a regular file of ours that parses; None otherwise."""
    path = folder / MANIFEST
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MANIFEST_MAX_BYTES:
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or document.get("written_by") != WRITTEN_BY:
        return None
    files = document.get("files")
    if not isinstance(files, dict) or not all(_valid_record(r) for r in files.values()):
        return None
    return document


def _valid_record(record: object) -> bool:
    return (isinstance(record, dict) and isinstance(record.get("bytes"), int)
            and isinstance(record.get("sha256"), str) and len(record["sha256"]) == 64)


def first_problem(folder: Path, command: str | None, missing_ok: Iterable[str] = ()) -> str | None:
    """Why ``folder`` may not be replaced by ``command`` (None: any command), or None if it may.

    ``missing_ok``: listed files whose absence is no problem (figures about to be drawn again).

    An empty folder may be replaced. Otherwise the reason names the first entry that is foreign (not
    listed, not a regular file) or changed (size or SHA-256 differ), or says the manifest is missing,
    not ours or from another command.
    """
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if not names:
        return None
    document = read_manifest(folder)
    if document is None:
        if MANIFEST not in names:
            return f"holds files ceasefire did not write (no {MANIFEST}; first: {_name(names[0])})"
        return f"its {MANIFEST} is not one ceasefire wrote (no list of files with their SHA-256)"
    written_by = document.get("command")
    if command is not None and written_by != command:
        return f"was written by `ceasefire {_name(str(written_by))}`, not `ceasefire {command}`"
    listed: dict[str, dict[str, Any]] = document["files"]
    for name in names:
        if name == MANIFEST:
            continue
        if name not in listed:
            return f"holds a file ceasefire did not write: {_name(name)}"
        try:
            info = (folder / name).lstat()
        except OSError as exc:
            return f"cannot read {_name(name)} ({exc.strerror or exc})"
        if not stat.S_ISREG(info.st_mode):
            return f"{_name(name)} is not a regular file ceasefire wrote"
        if info.st_size != listed[name]["bytes"] or file_record(folder / name) != listed[name]:
            return f"{_name(name)} was changed after ceasefire wrote it"
    missing = sorted(set(listed) - set(names) - set(missing_ok))
    if missing:
        return f"{_name(missing[0])}, listed in its {MANIFEST}, is missing"
    return None


def _name(name: str, limit: int = 60) -> str:
    clean = "".join(c if c.isprintable() else "?" for c in name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


# --------------------------------------------------------------------------- output folders


def protected_folders() -> list[tuple[Path, str]]:
    """Folders no output may be, or be inside: the committed data and the bundled copies."""
    protected = [(DATA_DIR, "holds the package's bundled data")]
    root = checkout_root()
    if root is not None:
        protected += [(root / "seeds", "holds the project's committed data (seeds/)"),
                      (root / "scenarios", "holds the bundled scenario files")]
    return [(folder.resolve(), reason) for folder, reason in protected]


def check_name(path: Path, flag: str) -> None:
    """Refuse a path that cannot be written as UTF-8 text in a manifest, or whose name is too long."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise refuse(path, flag, "its name is not valid UTF-8; choose a name of letters, digits, '-' and '_'") \
            from None
    if len(os.fsencode(path.name)) + TEMPORARY_NAME_BYTES > NAME_MAX_BYTES:
        raise refuse(path, flag, f"name too long (at most {NAME_MAX_BYTES - TEMPORARY_NAME_BYTES} bytes)")


def check_output_folder(path: str | Path, command: str, flag: str = OUT_FLAG,
                        inputs: Sequence[str | Path] = ()) -> Path:
    """Refuse, before any work, an output folder whose replacement could destroy what ceasefire did not write.

    Accepted: a new folder, an empty one, or one written by the same ``command`` and unchanged since
    (:func:`first_problem`). Refused: the current folder or one above it, a folder holding an input or the
    project's committed data, a symbolic link, a file, a name that is not UTF-8 or too long, a place
    where nothing can be written.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InputError: one line naming the folder, the flag and what to do.
    """
    path = Path(path)
    check_name(path, flag)
    if path.name in ("", ".", ".."):
        raise refuse(path, flag, "is the current folder or a parent of it; choose a new folder such as results/NAME")
    try:
        target = path.resolve()
        cwd = Path.cwd().resolve()
        protected = [(Path(p).resolve(), f"holds the input file {_name(Path(p).name)}") for p in inputs]
    except (OSError, RuntimeError) as exc:
        raise refuse(path, flag, f"cannot resolve ({getattr(exc, 'strerror', None) or exc})") from None
    if target == cwd or target in cwd.parents:
        raise refuse(path, flag, "is the current folder or a parent of it; choose a new folder such as results/NAME")
    for inside, reason in [*protected, *protected_folders()]:
        if inside == target or inside in target.parents or target in inside.parents:
            raise refuse(path, flag, f"{reason}; choose an empty or new folder")
    if path.is_symlink():
        raise refuse(path, flag, "is a symbolic link; give a real folder")
    if path.exists() and not path.is_dir():
        raise refuse(path, flag, "exists and is not a folder")
    if path.is_dir():
        problem = first_problem(path, command)
        if problem is not None:
            raise refuse(path, flag, f"{problem}; choose an empty or new folder")
    check_parent(path, flag)
    return path


def check_parent(path: Path, flag: str) -> None:
    """Create ``path``'s folder if needed and check a file can be created in it."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise refuse(path, flag, f"cannot write here ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------- single output files


def check_output_file(path: str | Path, suffix: str, flag: str = OUT_FLAG, force: bool = False) -> Path:
    """Refuse, before any work, an output file that is not new or a file ceasefire wrote.

    An existing regular file is replaced only when its mark checks out (:func:`is_marked`), or with
    ``force``. Folders, links, devices, FIFOs and sockets are always refused, and so is a wrong suffix.

    Raises:
        InputError: naming the file, the flag and what to do.
    """
    path = Path(path)
    check_name(path, flag)
    if path.suffix.lower() != suffix:
        raise refuse(path, flag, f"must be a {suffix} file name (got '{_name(path.suffix or path.name)}')")
    if path.is_symlink():
        raise refuse(path, flag, "is a symbolic link; give a new file name")
    if path.is_dir():
        raise refuse(path, flag, "is a folder; give a file name")
    if path.exists():
        if not path.is_file():
            raise refuse(path, flag, "is not a regular file (a device, FIFO or socket); give a new file name")
        if not force and not is_marked(path):
            raise refuse(path, flag, "exists and was not written by ceasefire; give a new file name, "
                                     "or --force to replace it")
    for inside, reason in protected_folders():
        try:
            target = path.resolve()
        except (OSError, RuntimeError) as exc:
            raise refuse(path, flag, f"cannot resolve ({getattr(exc, 'strerror', None) or exc})") from None
        if inside in target.parents:
            raise refuse(path, flag, f"{reason}; choose another place")
    check_parent(path, flag)
    return path


def is_marked(path: Path) -> bool:
    """Whether ``path`` is a PNG or HTML file whose ceasefire mark matches the rest of its content."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if data.startswith(PNG_SIGNATURE):
        found = _png_mark(data)
        return found is not None and found == _png_content_hash(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    match = HTML_MARK.search(text)
    return match is not None and match.group(1) == _html_content_hash(text, match)


def mark_html(document: str) -> str:
    """``document`` with its mark: a meta tag in ``<head>`` holding the SHA-256 of the whole document as it
    reads with a placeholder in place of that hash."""
    if "<head>" not in document:
        raise ValueError("an HTML document with a <head> is needed to carry the mark")
    document = document.replace("<head>", "<head>\n" + HTML_MARK_PLACEHOLDER, 1)
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
    return document.replace(HTML_MARK_PLACEHOLDER, HTML_MARK_PLACEHOLDER.replace("0" * 64, digest), 1)


def _html_content_hash(text: str, match: re.Match[str]) -> str:
    blank = text[: match.start()] + HTML_MARK_PLACEHOLDER + text[match.end():]
    return hashlib.sha256(blank.encode("utf-8")).hexdigest()


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(type, body, raw bytes) of each chunk of a PNG; raises ValueError if it does not parse."""
    chunks, at = [], len(PNG_SIGNATURE)
    while at < len(data):
        if at + 8 > len(data):
            raise ValueError("truncated PNG")
        (length,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        end = at + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG")
        chunks.append((kind, data[at + 8:at + 8 + length], data[at:end]))
        at = end
    return chunks


def _png_mark(data: bytes) -> str | None:
    try:
        chunks = _png_chunks(data)
    except ValueError:
        return None
    for kind, body, _ in chunks:
        if kind == b"tEXt" and body.startswith(PNG_MARK_KEY + b"\x00"):
            return body[len(PNG_MARK_KEY) + 1:].decode("latin-1")
    return None


def _png_content_hash(data: bytes) -> str:
    digest = hashlib.sha256(PNG_SIGNATURE)
    for kind, body, raw in _png_chunks(data):
        if not (kind == b"tEXt" and body.startswith(PNG_MARK_KEY + b"\x00")):
            digest.update(raw)
    return digest.hexdigest()


def mark_png(data: bytes) -> bytes:
    """A PNG's bytes with its mark: a text chunk, after the header, holding the SHA-256 of the other chunks."""
    chunks = _png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise ValueError("not a PNG image")
    unmarked = PNG_SIGNATURE + b"".join(raw for kind, body, raw in chunks
                                        if not (kind == b"tEXt" and body.startswith(PNG_MARK_KEY + b"\x00")))
    body = PNG_MARK_KEY + b"\x00" + _png_content_hash(unmarked).encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    header_end = len(PNG_SIGNATURE) + len(chunks[0][2])
    return unmarked[:header_end] + chunk + unmarked[header_end:]


def verified_file(folder: Path, name: str, flag: str = "DIR") -> Path:
    """``folder/name``, after checking it is a regular file that ``folder``'s manifest lists with this
    size and SHA-256 (a table damaged, truncated or swapped since ceasefire wrote it is refused).

    Raises:
        InputError: naming the folder, the file and what is wrong.
    """
    document = read_manifest(folder)
    if document is None:
        raise refuse(folder, flag, f"has no {MANIFEST} of ceasefire's listing its files; give a folder ceasefire "
                                   "wrote")
    record = document["files"].get(name)
    if record is None:
        raise refuse(folder, flag, f"{_name(name)} is not listed in its {MANIFEST}")
    path = folder / name
    try:
        info = path.lstat()
        found = file_record(path) if stat.S_ISREG(info.st_mode) else None
    except OSError as exc:
        raise refuse(folder, flag, f"cannot read {_name(name)} ({exc.strerror or exc})") from None
    if found != record:
        raise refuse(folder, flag, f"{_name(name)} was changed or damaged after ceasefire wrote it")
    return path
