"""What Jobcast writes under the data directory is readable by its own user only.

Uploads, results, artifacts, the Redis AOF and the logs hold other people's data: files are
created 0600 and directories 0700. A process-wide umask does it for every writer at once —
ours, pyarrow's, and the redis-server child, which inherits it — instead of a mode at each of
the many places that create a file.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Clears every group and other permission bit from new files and directories.
PRIVATE_UMASK = 0o077


def keep_new_files_private() -> None:
    """From now on this process (and its children) creates files 0600 and directories 0700."""
    os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> Path:
    """Create `path` (and parents) 0700, and tighten it if an older run left it open."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path
