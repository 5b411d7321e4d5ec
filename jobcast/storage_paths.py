"""Where stored files live under `JOBCAST_DATA_DIR`, and the names Jobcast gives them.

The api writes uploads, the workers read them and write artifacts, the api serves artifacts and
the sweeper deletes what no job needs: all of them find the files through this one layout.

    <data dir>/uploads/<random hex>            an uploaded table (`<name>.part` while it streams in)
    <data dir>/artifacts/<job id>.<format>     a convert job's file (`<name>.partial` while written)
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from jobcast.settings import Settings

#: Suffix of an upload still streaming in; renamed away once it is whole.
UPLOAD_PARTIAL_SUFFIX = ".part"
#: Suffix of an artifact still being written; renamed away once it is whole.
ARTIFACT_PARTIAL_SUFFIX = ".partial"

#: The names `new_upload_name` and `artifact_path` give (and their partials): the sweeper
#: touches no other file.
UPLOAD_NAME = re.compile(r"[0-9a-f]+")
UPLOAD_PARTIAL_NAME = re.compile(r"[0-9a-f]+" + re.escape(UPLOAD_PARTIAL_SUFFIX))
ARTIFACT_NAME = re.compile(r"(?P<job>j_[0-9a-f]+)\.[a-z0-9]+")
ARTIFACT_PARTIAL_NAME = re.compile(r"j_[0-9a-f]+\.[a-z0-9]+" + re.escape(ARTIFACT_PARTIAL_SUFFIX))


def uploads_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads"


def artifacts_dir(settings: Settings) -> Path:
    return settings.data_dir / "artifacts"


def new_upload_name() -> str:
    """A server-made name: the client never names a stored file."""
    return secrets.token_hex(16)


def upload_path(settings: Settings, stored: str) -> Path:
    return uploads_dir(settings) / stored


def artifact_path(settings: Settings, job_id: str, to: str) -> Path:
    return artifacts_dir(settings) / f"{job_id}.{to}"


def partial_path(path: Path, suffix: str) -> Path:
    """Where `path` is written before it is whole (one of the partial suffixes above)."""
    return path.with_name(path.name + suffix)
