"""Writing output files all or nothing, and leaving no temporary files behind on SIGTERM.

``write_files`` writes every file of a command to a temporary name in the target folder
(flushed to disk), and only when all of them are written renames them into place; on any
error (a full disk, a permission, an interrupt) it removes every temporary file and leaves
what was there before untouched. Checking that nothing is overwritten without ``--force``
stays with each caller (it knows which names it writes).

``sigterm_exits`` makes SIGTERM raise ``Terminated`` (a ``SystemExit``), so that the
``finally:`` cleanups of a command run as they do for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def _temp_name(target: Path, what: str) -> Path:
    return target.with_name(f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}")


def _write_temp(target: Path, data: bytes | np.ndarray, made: list[Path]) -> Path:
    """Write ``data`` to a new temporary file beside ``target`` (recorded in ``made`` as soon
    as it exists), flushed and fsynced; returns its path."""
    while True:
        tmp = _temp_name(target, "tmp")
        try:
            # the mode a plain open() would give (mkstemp would make it 0600)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue
        break
    made.append(tmp)
    if not isinstance(data, (bytes, bytearray)):
        # saved in memory first: numpy's own file writing reports a full disk as
        # "N requested and M written" instead of ENOSPC
        buf = io.BytesIO()
        np.save(buf, data, allow_pickle=False)
        data = buf.getbuffer()
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def _backup(target: Path) -> Path:
    """A second name for ``target``'s present content, to put back if the write fails: a hard
    link, or a copy where the file system has no hard links."""
    b = _temp_name(target, "old")
    try:
        os.link(target, b, follow_symlinks=False)
    except OSError:
        try:
            shutil.copy2(target, b, follow_symlinks=False)
        except BaseException:
            b.unlink(missing_ok=True)
            raise
    return b


def _fsync_folder(folder: Path) -> None:
    """Make the renames durable (best effort: not every system can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _missing_parents(folder: Path) -> list[Path]:
    """The folders ``mkdir(parents=True)`` would create, deepest first."""
    out = []
    p = Path(os.path.abspath(folder))
    while not p.exists() and p != p.parent:
        out.append(p)
        p = p.parent
    return out


def write_files(folder: str | os.PathLike, payload: dict[str, bytes | np.ndarray],
                error: type[Exception]) -> list[Path]:
    """Write every named file of ``payload`` (bytes, or an array saved as .npy) into
    ``folder``, all or nothing; returns the paths written, in ``payload``'s order.

    First each file is written to a temporary name in ``folder`` and fsynced; then each
    target that already exists is linked to a backup name; only then are the temporary files
    renamed into place. A failure in any step removes every temporary file, puts back what
    was replaced and removes the folders this call created, so the folder holds exactly what
    it held before. OS errors become ``error`` with one line naming the folder or file; any
    other exception (an interrupt) is re-raised after the same cleanup.
    """
    folder = Path(folder)
    created = _missing_parents(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _remove_folders(created)
        raise error(f"{folder}: cannot create the folder: {e.strerror or e}") from None
    targets = [folder / name for name in payload]
    temps: list[Path] = []  # every temporary file made, in order
    backups: dict[Path, Path] = {}  # target -> the hard link keeping its old content
    placed: list[Path] = []  # targets renamed into place so far
    current = folder
    ok = False
    try:
        for target, data in zip(targets, payload.values()):
            current = target
            _write_temp(target, data, temps)
        for target in targets:
            current = target
            if target.is_symlink() or target.is_file():
                backups[target] = _backup(target)
        for target, tmp in zip(targets, temps):
            current = target
            placed.append(target)  # before the rename: an interrupt may fall between the two
            os.replace(tmp, target)
        _fsync_folder(folder)
        ok = True
    except OSError as e:
        raise error(f"{current}: cannot write: {e.strerror or e}; nothing written") from None
    finally:
        if not ok:
            _roll_back(placed, backups, temps, created)
    for b in backups.values():
        b.unlink(missing_ok=True)
    return targets


def _roll_back(placed: list[Path], backups: dict[Path, Path], temps: list[Path],
               created: list[Path]) -> None:
    """Undo a partial ``write_files``: best effort, never raising."""
    for target in placed:
        try:
            if target in backups:
                # (a no-op when the rename never happened: both names are one file then,
                # and the backup is removed below)
                os.replace(backups[target], target)
            else:
                target.unlink(missing_ok=True)
        except OSError:
            pass
    for p in [*temps, *backups.values()]:
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass
    _remove_folders(created)


def _remove_folders(created: list[Path]) -> None:
    for d in created:  # deepest first; only while empty
        try:
            d.rmdir()
        except OSError:
            break


# ---- SIGTERM ----------------------------------------------------------------------------------
class Terminated(SystemExit):
    """Raised by the SIGTERM handler of ``sigterm_exits``; its code is 128 + SIGTERM."""


@contextlib.contextmanager
def sigterm_exits() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` (exit status 143) in the main thread, so
    ``finally:`` blocks remove temporary files and folders; on the way out one line on stderr
    says so. A second SIGTERM while the cleanups run is ignored. Usable as a decorator; does
    nothing outside the main thread (where Python cannot install handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame) -> None:  # noqa: ANN001 - a frame
        signal.signal(signum, signal.SIG_IGN)  # let the cleanups finish
        raise Terminated(128 + signum)

    def unraisable(info: Any) -> None:
        # The signal arrived inside a destructor (numba's compiler frees LLVM strings in
        # __del__) or a callback, where Python prints and drops any exception: send it again
        # a moment later (from a thread: a signal raised here would be handled here), so
        # that it is raised once that code has returned.
        if isinstance(info.exc_value, Terminated):
            signal.signal(signal.SIGTERM, handler)
            again = threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGTERM))
            again.daemon = True
            again.start()
        else:
            old_hook(info)

    old = signal.signal(signal.SIGTERM, handler)
    old_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    terminating = False
    try:
        yield
    except Terminated:
        terminating = True
        print("hls-sim: interrupted by SIGTERM; temporary files removed, nothing written",
              file=sys.stderr, flush=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, old)
        # on the way out after SIGTERM, objects the signal left half-built (numba's LLVM
        # handles) fail in their destructors: noise under the one line above, not news
        sys.unraisablehook = (lambda info: None) if terminating else old_hook
