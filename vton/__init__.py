"""vton-pipeline: platform-wide pieces shared by every package (paths, weights store, Ray runtime, CLI)."""

__version__ = "0.1.0"
