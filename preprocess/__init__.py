"""Data preparation library: dataset readers, safe decoding, manifests, the synthetic demo generator."""
