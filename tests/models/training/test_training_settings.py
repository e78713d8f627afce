"""TrainingSettings: JSON round trip, stable config hash, presets, validation errors that name the setting."""

from __future__ import annotations

import pytest
from tiny_family import TinyCopyConfig

from models.training.settings import TrainingSettings


def test_round_trip_keeps_every_value_and_types():
    config = TinyCopyConfig.preset("tiny", betas=(0.8, 0.95), grad_clip_norm=1.0, trace_dir="/x")
    data = config.to_dict()
    assert data["betas"] == [0.8, 0.95]
    back = TinyCopyConfig.from_dict(data)
    assert back == config and back.betas == (0.8, 0.95)


def test_config_hash_is_stable_and_follows_every_setting():
    a = TrainingSettings(lr=1e-3)
    assert a.config_hash() == TrainingSettings(lr=1e-3).config_hash()
    assert len(a.config_hash()) == 16
    assert a.config_hash() != TrainingSettings(lr=2e-3).config_hash()
    assert a.config_hash() != TrainingSettings(lr=1e-3, epochs=11).config_hash()
    assert a.run_identity() == TrainingSettings(lr=1e-3, epochs=11, keep_best=5).run_identity()
    assert a.run_identity() != TrainingSettings(lr=1e-3, seed=1).run_identity()


def test_presets_apply_overrides_and_unknown_names_are_listed():
    config = TinyCopyConfig.preset("tiny", epochs=5)
    assert (config.epochs, config.batch_size, config.data_workers) == (5, 4, 0)
    with pytest.raises(ValueError, match="no preset 'paper'; presets: tiny"):
        TinyCopyConfig.preset("paper")
    with pytest.raises(ValueError, match=r"no setting\(s\) \['epoch'\]"):
        TinyCopyConfig.preset("tiny", epoch=3)
    with pytest.raises(ValueError, match=r"no setting\(s\) \['unet_channels'\]"):
        TinyCopyConfig.from_dict({"unet_channels": 8})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"optimizer": "sgd"}, "optimizer 'sgd'"),
        ({"mixed_precision": "fp8"}, "mixed_precision 'fp8'"),
        ({"grad_accum_steps": 0}, "grad_accum_steps must be at least 1"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"monitor_mode": "up"}, "monitor_mode"),
    ],
)
def test_out_of_range_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**overrides)
