"""Writing an output all or nothing, and one writer per output at a time.

Everything is written into a hidden temporary folder (or file) beside the destination, which is swapped
into place only once complete. The previous folder is set aside first, checked again
(:func:`sim.outputs.ownership.first_problem`: a file planted meanwhile is never deleted), and removed
file by file, only the files its manifest lists. A failed or interrupted write leaves the previous
results as they were and no folder that looks complete.

An output is claimed for the whole of a command (:func:`claim`): an advisory lock (``flock``) on a
hidden file beside it, which the kernel releases when the process ends however it ends, so a crash
never leaves it held. A second command on the same output is refused with one line.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.core.errors import InputError
from sim.core.signals import signals_held
from sim.outputs.ownership import MANIFEST, OUT_FLAG, first_problem, read_manifest, refuse

RACE_ATTEMPTS = 5
"""How often a folder swap is retried when another writer swaps the same folder at the same time."""


class ForeignFileError(InputError):
    """A file ceasefire did not write appeared in an output while it ran; nothing of it was touched."""


def lock_path(out: Path) -> Path:
    """The hidden lock file of an output: ``.NAME.lock`` beside it."""
    return out.parent / f".{out.name}.lock"


_claimed: set[Path] = set()
"""Outputs this process holds (a claim inside a claim of the same output is a no-op)."""


@contextlib.contextmanager
def claim(out: Path | str, flag: str = OUT_FLAG) -> Iterator[Path]:
    """Hold ``out`` for this process for the block's duration; refuse if another process holds it.

    Raises:
        InputError: another ``ceasefire`` process is writing the same output.
    """
    out = Path(out)
    key = out.absolute()
    if key in _claimed:
        yield out
        return
    lock = lock_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise refuse(out, flag, f"cannot write here ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise refuse(out, flag, "is in use by another ceasefire command; wait for it to finish "
                                        "or choose another folder") from None
            raise
        if not _same_file(descriptor, lock):  # its holder finished and removed it as we opened it: start over
            os.close(descriptor)
            descriptor = -1
            with claim(out, flag) as again:
                yield again
            return
        _claimed.add(key)
        try:
            yield out
        finally:
            _claimed.discard(key)
            with contextlib.suppress(OSError):
                os.unlink(lock)  # released below; a later claimant creates a new one
    finally:
        if descriptor >= 0:
            os.close(descriptor)


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        held, named = os.fstat(descriptor), os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on failure it is removed.

    ``path`` must have been checked (:func:`sim.outputs.ownership.check_output_file`); the swap is a rename,
    so a symbolic link put in its place meanwhile is replaced, never written through.
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.partial-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        with signals_held():
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(out_dir: Path, command: str, flag: str = OUT_FLAG) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out_dir``, on failure it is removed.

    ``out_dir`` must have been checked for ``command`` (:func:`sim.outputs.ownership.check_output_folder`);
    it is checked again when the new folder is ready: if it changed meanwhile (a file planted, a file
    edited), nothing is replaced and :class:`ForeignFileError` names the file.
    """
    out_dir = Path(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        move_into_place(tmp, out_dir, command, flag)
    except BaseException:
        rmtree_own(tmp)
        raise


def move_into_place(tmp: Path, out_dir: Path, command: str, flag: str = OUT_FLAG) -> None:
    """Rename ``tmp`` to ``out_dir``; an existing ``out_dir`` is set aside, verified, and removed only after.

    If the final rename fails the previous folder is put back, so a failure leaves the old results.
    """
    for attempt in range(RACE_ATTEMPTS):
        last = attempt == RACE_ATTEMPTS - 1
        with signals_held():
            holder = _set_aside(out_dir)
            if holder is False:  # another writer moved it away first
                continue
            if holder is not None:
                problem = first_problem(holder / out_dir.name, command)
                if problem is not None:
                    _put_back(holder, out_dir)
                    raise ForeignFileError(f"{out_dir}: {flag}: changed while this command ran ({problem}); "
                                           "nothing was replaced")
            try:
                os.replace(tmp, out_dir)
            except BaseException as exc:
                if holder is not None:
                    _put_back(holder, out_dir)
                if isinstance(exc, OSError) and exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and not last:
                    continue  # another writer put its folder in place between the two renames
                raise
            if holder is not None:
                remove_own_folder(holder / out_dir.name)
                with contextlib.suppress(OSError):
                    holder.rmdir()
        return
    raise OSError(errno.EBUSY, "another process kept replacing this folder", str(out_dir))


def remove_own_folder(folder: Path) -> None:
    """Delete the files ``folder``'s manifest lists, the manifest, then the folder if that empties it.

    Used on a folder just verified as ours (:func:`sim.outputs.ownership.first_problem`); a file planted
    in it after that check stays, and so does the folder holding it.
    """
    document = read_manifest(folder)
    if document is None:  # an empty folder, accepted as new: removed if it still is
        with contextlib.suppress(OSError):
            folder.rmdir()
        return
    for name in [*document["files"], MANIFEST]:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            (folder / name).unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()


def _set_aside(out_dir: Path) -> Path | None | bool:
    """Move an existing ``out_dir`` into a new hidden holder folder; None if there was none, False if it
    vanished meanwhile."""
    if not os.path.lexists(out_dir):
        return None
    holder = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    try:
        os.replace(out_dir, holder / out_dir.name)
    except FileNotFoundError:
        holder.rmdir()
        return False
    except OSError:
        holder.rmdir()
        raise
    return holder


def _put_back(holder: Path, out_dir: Path) -> None:
    """Return the set-aside folder to ``out_dir``; if a newer complete folder took its place, keep both
    (the set-aside one stays in its hidden holder: keeping results beats deleting them)."""
    try:
        os.replace(holder / out_dir.name, out_dir)
    except OSError:
        return
    with contextlib.suppress(OSError):
        holder.rmdir()


def discard_partial(folder: Path, own_names: set[str], flag: str = OUT_FLAG) -> None:
    """Delete a work-in-progress folder (a sweep's ``.partial``) holding only ``own_names``.

    Raises:
        InputError: it holds anything else (listed by its first name); nothing is deleted.
    """
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return
    foreign = [name for name in names if name not in own_names or not (folder / name).is_file()
               or (folder / name).is_symlink()]
    if foreign:
        raise refuse(folder, flag, f"holds a file ceasefire did not write ({foreign[0]}); move it away first")
    for name in names:
        (folder / name).unlink()
    folder.rmdir()


def rmtree_own(folder: Path) -> None:
    """Remove a temporary folder this process created and alone knows (it cannot hold anything foreign)."""
    shutil.rmtree(folder, ignore_errors=True)
