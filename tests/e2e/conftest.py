"""Fixtures for the end-to-end tests: `tmux`, a private tmux server per test (tests/e2e/tmuxrun.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.tmuxrun import OUTMAIL, Tmux


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    # CI installs tmux: a missing tmux is a failure, not a skip.
    assert shutil.which("tmux"), "tmux is required for the end-to-end tests (apt-get install tmux)"
    assert OUTMAIL.exists(), f"{OUTMAIL} is missing: install the project into the venv (pip install -e .)"
    session = Tmux()
    yield session
    session.kill()
