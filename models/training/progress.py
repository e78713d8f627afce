"""Progress of a running training, shown and forwarded by the driver process.

Ray workers' output does not reach the driver (`log_to_driver=False`), so rank 0 puts small events
(`{"kind": "step", ...}`, `{"kind": "epoch", "record": ...}`) on a Ray queue the driver owns. The driver
drains it while `TorchTrainer.fit` runs: a tqdm bar for interactive runs and the caller's `on_epoch` callback
(the Dagster asset logs each epoch with it), each epoch delivered once even across worker restarts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any


class ProgressRelay:
    """Owns the event queue (a zero-CPU Ray actor) and turns events into a progress bar and callbacks."""

    def __init__(self, *, show_bar: bool, on_epoch: Callable[[dict], None] | None, description: str) -> None:
        from ray.util.queue import Queue
        from tqdm import tqdm

        self.queue = Queue(actor_options={"num_cpus": 0})
        self.on_epoch = on_epoch
        self.bar = tqdm(
            desc=description, unit="step", disable=not show_bar, file=sys.stderr, dynamic_ncols=True
        )
        self.delivered: set[tuple[int, int]] = set()

    def pump(self, timeout: float) -> None:
        """Handle the events that arrive within `timeout` seconds (at least the first one)."""
        from ray.util.queue import Empty

        try:
            self.handle(self.queue.get(block=True, timeout=timeout))
            while True:
                self.handle(self.queue.get_nowait())
        except Empty:
            return

    def handle(self, event: dict[str, Any]) -> None:
        if event["kind"] == "step":
            if (
                self.bar.total != event["total"]
            ):  # the first step: the clock starts with training, not startup
                self.bar.reset(total=event["total"])
            self.bar.n = event["step"]
            self.bar.set_postfix(loss=f"{event['loss']:.4g}", refresh=False)
            self.bar.refresh()
        elif event["kind"] == "epoch":
            self.deliver([event["record"]])

    def deliver(self, records: Iterable[dict[str, Any]]) -> None:
        """Call `on_epoch` for each record not delivered yet (by epoch and step)."""
        for record in records:
            key = (int(record["epoch"]), int(record["step"]))
            if key in self.delivered:
                continue
            self.delivered.add(key)
            if not self.bar.disable:
                self.bar.write(_epoch_line(record))
            if self.on_epoch is not None:
                self.on_epoch(record)

    def close(self, history: Iterable[dict[str, Any]]) -> None:
        """Deliver what the queue missed (from the final history), close the bar, remove the queue actor."""
        self.deliver(history)
        self.bar.close()
        self.queue.shutdown()


def _epoch_line(record: dict[str, Any]) -> str:
    values = " ".join(
        f"{k}={v:.4g}" for k, v in record.items() if k not in ("epoch", "step") and isinstance(v, float)
    )
    return f"epoch {record['epoch']} (step {record['step']}): {values}"
