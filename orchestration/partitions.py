"""Partitions: every registered dataset is one dynamic partition (added by `dataset_files_sensor`)."""

from __future__ import annotations

import dagster as dg

datasets_partitions = dg.DynamicPartitionsDefinition(name="datasets")
