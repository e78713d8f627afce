"""Auto-ARM (seed 000): an Attention U-Net that refines a rough try-on mask from the garment mask and the
pose skeleton. `config` (presets paper/tiny), `network`, `losses`, `data` (shard sample -> tensors, parse
truth), `family` (the ModelFamily the generic driver trains), `predict` (refined mask folders and shards)."""

from models.autoarm.config import AutoArmConfig
from models.autoarm.family import FAMILY, AutoArmFamily
from models.autoarm.network import AttentionGate, AttentionUNet

__all__ = ["FAMILY", "AttentionGate", "AttentionUNet", "AutoArmConfig", "AutoArmFamily"]
