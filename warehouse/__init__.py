"""Warehouse tables (Parquet), DuckDB views and the papers' reference results."""
