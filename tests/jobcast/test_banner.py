"""`jobcast up`'s banner says its addresses and paths as they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobcast.launcher import Stack, UpOptions
from jobcast.settings import Settings
from jobcast.up_cli import announce


def test_a_data_directory_and_a_user_with_brackets_are_shown_as_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Read as markup, a data directory `jobcast[old]` was shown as `jobcast`: the logs' path
    # in the banner was one that did not exist.
    data_dir = tmp_path / "jobcast[old]"
    settings = Settings(dev=True).replace(data_dir=data_dir, flower_user="ops[eu]")
    announce(Stack(settings, UpOptions()))
    banner = capsys.readouterr().out
    assert f"Logs             {data_dir / 'log'}/" in banner, banner
    assert "Flower user      ops[eu]" in banner, banner
