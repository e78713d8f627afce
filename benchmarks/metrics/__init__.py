"""Metrics throughput against the peer implementations (torchmetrics, lpips, torch-fidelity)."""
