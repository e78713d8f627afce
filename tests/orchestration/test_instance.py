"""DAGSTER_HOME preparation: storage, compute logs and artifacts under VTON_HOME, telemetry off, no clobbering."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from orchestration.instance import (
    GENERATED_MARKER,
    DagsterHomeError,
    get_instance,
    prepare_dagster_home,
    render_instance_config,
)


def _paths_in(config: dict) -> list[str]:
    found = []
    for key, value in config.items():
        if isinstance(value, dict):
            found += _paths_in(value)
        elif key == "base_dir":
            found.append(value)
    return found


def test_prepare_points_dagster_home_under_vton_home(vton_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home()
    assert home == vton_home.resolve() / "dagster"
    assert os.environ["DAGSTER_HOME"] == str(home)
    assert os.environ["DAGSTER_DISABLE_TELEMETRY"] == "1"
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    paths = _paths_in(config)
    assert len(paths) == 3  # storage, artifacts, compute logs
    assert all(Path(p).is_absolute() and Path(p).is_relative_to(vton_home.resolve()) for p in paths)
    assert config["telemetry"] == {"enabled": False}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["runs"]["max_concurrent_runs"] >= 1


def test_generated_copy_is_refreshed_but_a_users_own_config_is_kept(vton_home, tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    config = prepare_dagster_home() / "dagster.yaml"
    pristine = config.read_text()
    config.write_text(pristine + "\n# stale edit\n")
    monkeypatch.delenv("DAGSTER_HOME")
    prepare_dagster_home()
    assert config.read_text() == pristine

    own = tmp_path / "my_dagster_home"
    own.mkdir()
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(own))
    assert prepare_dagster_home() == own.resolve()
    assert (own / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"


def test_odd_characters_in_vton_home_survive_yaml(tmp_path):
    odd = tmp_path / 'we:ird #home "quoted"'
    rendered = render_instance_config(odd)
    assert rendered.startswith(GENERATED_MARKER)
    config = yaml.safe_load(rendered)
    assert config["storage"]["sqlite"]["base_dir"] == f"{odd.resolve()}/dagster/storage"


def test_missing_template_names_the_fix(tmp_path):
    with pytest.raises(DagsterHomeError, match="set DAGSTER_HOME"):
        render_instance_config(tmp_path, template=tmp_path / "absent.yaml")


def test_get_instance_is_persistent_under_vton_home(vton_home, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = get_instance()
    try:
        assert not instance.is_ephemeral
        assert Path(instance.root_directory).is_relative_to(vton_home.resolve())
        assert (vton_home / "dagster" / "storage").is_dir()
    finally:
        instance.dispose()


def test_dagster_home_pointing_at_the_template_is_refused(vton_home, monkeypatch):
    from orchestration.instance import INSTANCE_TEMPLATE, DagsterHomeError, prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(INSTANCE_TEMPLATE.parent))
    with pytest.raises(DagsterHomeError, match="unrendered template"):
        prepare_dagster_home()
