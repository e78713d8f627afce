"""Image, video and efficiency metrics over tensors and folders (no Dagster)."""
