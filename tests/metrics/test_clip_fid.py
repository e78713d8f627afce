"""CLIP-FID: the `clip_vit_b32` extractor agrees with transformers' own CLIPModel + CLIPImageProcessor on a tiny
random CLIP saved as a full CLIP folder (as published), ≤ 1e-5; the folders' CLIP-FID equals a scipy Fréchet
distance of the peer's features."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image

from metrics.extractors import build_extractor
from metrics.folders import evaluate_folders

transformers = pytest.importorskip("transformers")

SIZE = 32


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip") / "clip-vit-base-patch32"
    config = transformers.CLIPConfig(
        text_config={
            "vocab_size": 64,
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "max_position_embeddings": 16,
            "bos_token_id": 0,
            "eos_token_id": 1,
        },
        vision_config={
            "image_size": SIZE,
            "patch_size": 8,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
        },
        projection_dim=8,  # set at the top level only, as in the published config
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        transformers.CLIPModel(config).save_pretrained(folder)
    transformers.CLIPImageProcessor(
        size={"shortest_edge": SIZE}, crop_size={"height": SIZE, "width": SIZE}
    ).save_pretrained(folder)
    return folder


def _peer_features(folder, images: np.ndarray) -> np.ndarray:
    """transformers end to end: its image processor (rescale, CLIP mean/std) and CLIPModel.get_image_features."""
    processor = transformers.CLIPImageProcessor.from_pretrained(folder)
    model = transformers.CLIPModel.from_pretrained(folder).eval()
    pixels = processor(images=list(images), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        return model.get_image_features(pixel_values=pixels).pooler_output.double().numpy()


def _random_images(seed: int, n: int, low: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return rng.randint(low, 256, (n, SIZE, SIZE, 3)).astype(np.uint8)


def test_clip_features_match_transformers_clip_model(clip_folder):
    images = _random_images(0, 4, 0)
    net = build_extractor("clip_vit_b32", paths={"clip_vit_b32": clip_folder})
    ours = net(torch.from_numpy(images).permute(0, 3, 1, 2)).double().numpy()
    assert ours.shape == (4, 8)
    np.testing.assert_allclose(ours, _peer_features(clip_folder, images), atol=1e-5, rtol=0)


def _scipy_frechet(f1: np.ndarray, f2: np.ndarray) -> float:
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_folder_clip_fid_is_the_frechet_distance_of_the_peer_features(clip_folder, tmp_path):
    pred_images, gt_images = _random_images(1, 14, 0), _random_images(2, 12, 90)
    for name, images in (("pred", pred_images), ("gt", gt_images)):
        (tmp_path / name).mkdir()
        for i, image in enumerate(images):
            Image.fromarray(image).save(tmp_path / name / f"{name}{i:02d}.png")
    result = evaluate_folders(
        tmp_path / "pred", tmp_path / "gt", ["clip_fid"], paths={"clip_vit_b32": clip_folder}, progress=False
    )
    reference = _scipy_frechet(
        _peer_features(clip_folder, pred_images), _peer_features(clip_folder, gt_images)
    )
    assert reference > 0.01
    assert result.values["clip_fid"] == pytest.approx(reference, rel=1e-5)
