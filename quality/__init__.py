"""great-expectations suites and the plain results Dagster asset checks are built from."""
