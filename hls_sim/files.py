"""Writing output files so that a reader never sees a half-written one.

Each file goes to a temporary name beside its target, is flushed to disk, then renamed into
place. Checking that nothing is overwritten without ``--force`` stays with each caller (it
knows which names it writes).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def write_atomic(target: Path, data: bytes | np.ndarray) -> None:
    """Write ``data`` (bytes, or an array saved as .npy) to ``target`` via a temporary file.

    Raises OSError; the temporary file is removed then.
    """
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                np.save(f, data, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_files(folder: Path, payload: dict[str, bytes | np.ndarray],
                error: type[Exception]) -> list[Path]:
    """Create ``folder`` if needed and write each named file of ``payload`` into it, in order.

    Failures become ``error`` with one line naming the folder or file.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise error(f"{folder}: cannot create the folder: {e.strerror or e}") from None
    written = []
    for name, data in payload.items():
        target = folder / name
        try:
            write_atomic(target, data)
        except OSError as e:
            raise error(f"{target}: cannot write: {e.strerror or e}") from None
        written.append(target)
    return written
