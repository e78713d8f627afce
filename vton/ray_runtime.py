"""The platform's Ray runtime: a local Ray on this machine by default, a cluster when RAY_ADDRESS is set.

Local Ray keeps all of its session files under VTON_HOME/ray. `ray_map` runs a function over items as Ray
tasks with bounded in-flight work and returns results in input order, so output never depends on how
many cores ran it.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from vton.home import VtonHome

T = TypeVar("T")
R = TypeVar("R")


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> dict[str, Any]:
    """Start (or connect to) Ray once per process; return a description of what is running."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = address or os.environ.get("RAY_ADDRESS") or None
    if not address:
        _local_auth_token()  # before Ray reads its config
    import ray

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        else:
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1,
                _temp_dir=str(VtonHome.from_env().ray),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                object_store_memory=int(os.environ.get("VTON_RAY_OBJECT_STORE_BYTES", 512 * 1024**2)),
            )
    resources = ray.cluster_resources()
    return {
        "address": ray.get_runtime_context().gcs_address,
        "cpus": int(resources.get("CPU", 0)),
        "gpus": int(resources.get("GPU", 0)),
    }


def _local_auth_token() -> None:
    """Keep Ray's auth token under VTON_HOME/ray (Ray would otherwise create ~/.ray/auth_token)."""
    if (
        os.environ.get("RAY_AUTH_MODE")
        or os.environ.get("RAY_AUTH_TOKEN")
        or os.environ.get("RAY_AUTH_TOKEN_PATH")
    ):
        return  # the user configured Ray's authentication: respect it
    token_path = VtonHome.from_env().ray / "auth_token"
    if not token_path.exists():
        token_path.write_text(secrets.token_hex(32))
        token_path.chmod(0o600)
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_path)
    if "ray" in sys.modules:  # Ray read its config at import: make it see the new mode, as Ray itself does
        from ray._raylet import Config

        Config.initialize("")


def ray_map(
    fn: Callable[..., R],
    items: Sequence[T] | Iterable[T],
    *args: Any,
    max_in_flight: int | None = None,
    on_done: Callable[[R], None] | None = None,
) -> list[R]:
    """Run `fn(item, *args)` for each item as a Ray task; results come back in input order.

    At most `max_in_flight` tasks are queued at once (default: twice the cluster's CPUs) so a huge input
    does not flood the object store. `on_done` is called as each result arrives (progress bars).
    """
    import ray

    if not ray.is_initialized():
        ensure_ray()
    remote_fn = ray.remote(num_cpus=1)(fn)
    shared = [ray.put(a) for a in args]
    limit = max_in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    results: dict[int, R] = {}
    pending: dict[Any, int] = {}
    for index, item in enumerate(items):
        if len(pending) >= limit:
            _collect_one(pending, results, on_done, ray)
        pending[remote_fn.remote(item, *shared)] = index
    while pending:
        _collect_one(pending, results, on_done, ray)
    return [results[i] for i in range(len(results))]


def _collect_one(pending: dict, results: dict, on_done: Callable | None, ray: Any) -> None:
    ready, _ = ray.wait(list(pending), num_returns=1, fetch_local=True)
    for ref in ready:
        value = ray.get(ref)
        results[pending.pop(ref)] = value
        if on_done:
            on_done(value)
