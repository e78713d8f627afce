"""Data filters: the IGR high-quality fine-tune (HQFT) subset (`hqft`)."""
