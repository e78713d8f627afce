"""Dagster assets and asset checks, one module per stage; thin wrappers over library code."""
