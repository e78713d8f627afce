"""Dagster wiring: the Definitions object, resources, partitions, sensors, jobs."""
