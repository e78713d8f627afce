"""Annotators: one module per annotator, all following the protocol in base.py (ARCHITECTURE §4)."""
