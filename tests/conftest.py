"""Test-session setup: an isolated VTON_HOME, one local Ray for the whole session, the shared data folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# Every test writes under a throw-away VTON_HOME; nothing lands in the repository's .vton/.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="vton-test-"))
os.environ["VTON_HOME"] = str(_SESSION_HOME)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def ray_local():
    """A 2-CPU local Ray started once per test session (Ray 2.60 has no local_mode)."""
    import ray

    from vton.ray_runtime import ensure_ray

    info = ensure_ray(num_cpus=2)
    yield info
    ray.shutdown()


@pytest.fixture()
def vton_home(tmp_path, monkeypatch) -> Path:
    """A fresh VTON_HOME for one test."""
    home = tmp_path / "vton_home"
    monkeypatch.setenv("VTON_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The shared real photographs; tests that need them skip cleanly where ../shared is absent."""
    photos = SHARED / "realdata" / "photos"
    if not photos.is_dir():
        pytest.skip(f"{photos} not present (a fresh clone has no ../shared)")
    return photos
