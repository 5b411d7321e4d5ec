"""A download saved to a path: written beside it under a name of its own, then moved in whole,
never over a file the caller did not mean to replace (not even one made during the download)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def partial_beside(path: Path) -> Iterator[Path]:
    """A new empty file beside `path`, made exclusively (two downloads to one path do not
    mix), and removed on leaving whatever happened: move it into place before then."""
    partial = _new_file(path.parent, f".{path.name}.", ".part")
    try:
        yield partial
    finally:
        partial.unlink(missing_ok=True)


def _new_file(directory: Path, prefix: str, suffix: str) -> Path:
    # Made with the mode a plain open gives (0666 less the umask), as the file is the one kept:
    # `tempfile.mkstemp`'s is 0600, which a downloaded file kept after the move.
    while True:
        candidate = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate


def move_into(partial: Path, path: Path, *, overwrite: bool) -> None:
    """Put the complete `partial` at `path`. Without `overwrite` a file already at `path`
    raises FileExistsError and is left as it is: a check made before the download cannot
    see a file made during it, the move itself must refuse."""
    if overwrite:
        partial.replace(path)
        return
    try:
        os.link(partial, path)  # atomic, and refuses an existing `path`, as rename cannot
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links (FAT, some network mounts)
        _copy_exclusively(partial, path)


def _copy_exclusively(partial: Path, path: Path) -> None:
    with path.open("xb") as out:
        try:
            with partial.open("rb") as source:
                shutil.copyfileobj(source, out)
        except BaseException:
            path.unlink(missing_ok=True)  # made by this call ("xb"): no one else's file
            raise
