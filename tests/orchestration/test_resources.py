"""RayResource and PathsResource: where Ray comes from and where files go."""

from __future__ import annotations

import dagster as dg

import orchestration.resources as resources
from orchestration.resources import PathsResource, RayResource


def _setup(resource: RayResource, monkeypatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(resources, "ensure_ray", lambda **kw: calls.append(kw) or {"cpus": 1})
    resource.setup_for_execution(dg.build_init_resource_context())
    return calls


def test_ray_address_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert _setup(RayResource(), monkeypatch) == [{"address": "ray://head:10001", "num_cpus": None}]


def test_explicit_ray_address_and_cpus_win(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    calls = _setup(RayResource(address="other:6379", num_cpus=1), monkeypatch)
    assert calls == [{"address": "other:6379", "num_cpus": 1}]


def test_no_address_means_a_local_ray(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert _setup(RayResource(num_cpus=2), monkeypatch) == [{"address": None, "num_cpus": 2}]


def test_paths_follow_vton_home_unless_overridden(vton_home, tmp_path):
    assert PathsResource().vton_home().root == vton_home.resolve()
    other = tmp_path / "elsewhere"
    assert (
        PathsResource(home=str(other)).vton_home().manifest_dir("ds") == other.resolve() / "manifests" / "ds"
    )
