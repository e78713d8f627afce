"""Dagster resources: Ray (local by default, a cluster via RAY_ADDRESS) and the VTON_HOME paths.

Why not dagster-ray's `LocalRay`: it runs `ray.init` in every step and shuts Ray down after it, fails when
Ray is already up in the process, and leaves Ray's session files in /tmp/ray. `RayResource` instead calls
`vton.ray_runtime.ensure_ray`, which starts Ray once per process with its files under VTON_HOME/ray (or
connects to RAY_ADDRESS). Assets only need Ray to be connected in their process (library code calls
`ray_map`), so on Kubernetes bind the `ray` key to dagster-ray's KubeRay resource instead, e.g.
`dagster_ray.kuberay.KubeRayInteractiveJob(...)` (or `KubeRayCluster(...)`): it creates the cluster,
`ray.init`s against it for the step and tears it down; dataset roots must then be on storage the
cluster's workers can read.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from vton.home import VtonHome
from vton.ray_runtime import ensure_ray


class RayResource(dg.ConfigurableResource):
    """Ray for heavy steps: a local Ray on this machine, or the cluster at `address` / RAY_ADDRESS."""

    address: str | None = Field(
        default=None,
        description="Ray cluster address (ray://host:10001 or host:6379). Unset: env RAY_ADDRESS, else a local Ray.",
    )
    num_cpus: int | None = Field(
        default=None, description="CPUs for a local Ray (default: all cores). Ignored for a cluster."
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Start or connect Ray once per process before the step runs; log what is running."""
        info = ensure_ray(
            address=self.address or os.environ.get("RAY_ADDRESS") or None, num_cpus=self.num_cpus
        )
        if context.log is not None:
            context.log.info(f"Ray ready: {info}")


class PathsResource(dg.ConfigurableResource):
    """Where the platform writes: VTON_HOME (from the environment unless `home` is given)."""

    home: str | None = Field(default=None, description="VTON_HOME override; unset: env VTON_HOME or .vton/.")

    def vton_home(self) -> VtonHome:
        """The VtonHome this resource points at (read when called, so a changed VTON_HOME is honoured)."""
        return VtonHome(Path(self.home).expanduser().resolve()) if self.home else VtonHome.from_env()
