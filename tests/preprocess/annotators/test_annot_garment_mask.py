"""Garment mask from in-shop images: IoU against the generator's cloth masks, coloured backgrounds with a
shadow, real product photos, and the annotator's errors."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from preprocess.annotators.base import AnnotationError, AnnotationInput
from preprocess.annotators.garment_mask import GarmentMaskAnnotator, garment_mask, mask_iou, read_cloth_mask
from preprocess.images import decode_image
from preprocess.synthetic import generate_dataset, read_truth

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "realdata" / "photos"


@pytest.fixture(scope="module")
def vitonhd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vh")
    generate_dataset("vitonhd", 10, root, seed=3, size=(384, 288))
    return root


def test_iou_against_vitonhd_cloth_mask_jpegs(vitonhd: Path) -> None:
    ious = []
    for record in read_truth(vitonhd):
        cloth = vitonhd / record["garment"]
        truth = read_cloth_mask(Path(str(cloth).replace("/cloth/", "/cloth-mask/")))
        ious.append(mask_iou(garment_mask(decode_image(cloth)), truth))
    assert np.mean(ious) >= 0.95, ious
    assert min(ious) >= 0.85


def test_iou_against_dresscode_masks_all_categories(tmp_path: Path) -> None:
    generate_dataset("dresscode", 9, tmp_path, seed=4, size=(384, 288))
    ious, categories = [], set()
    for record in read_truth(tmp_path):
        garment = tmp_path / record["garment"]
        mask_file = Path(str(garment).replace("/images/", "/masks/").replace("_1.jpg", "_1.png"))
        ious.append(mask_iou(garment_mask(decode_image(garment)), read_cloth_mask(mask_file)))
        categories.add(record["category"])
    assert categories == {"upper", "lower", "dresses"}
    assert np.mean(ious) >= 0.95, ious


@pytest.mark.parametrize("background", [(70, 120, 200), (235, 200, 160), (40, 40, 40)])
def test_coloured_background_with_soft_shadow(vitonhd: Path, background: tuple[int, int, int]) -> None:
    record = read_truth(vitonhd)[0]
    cloth = decode_image(vitonhd / record["garment"])
    truth = read_cloth_mask(Path(str(vitonhd / record["garment"]).replace("/cloth/", "/cloth-mask/")))
    inside = (truth > 0)[..., None]
    shadow = cv2.GaussianBlur(np.roll(truth, (6, 6), axis=(0, 1)).astype(np.float32) / 255, (0, 0), 5)
    plain = np.array(background, np.float32) * (1 - 0.12 * shadow[..., None])
    photo = np.where(inside, cloth, plain).astype(np.uint8)
    assert mask_iou(garment_mask(photo), truth) >= 0.93


def test_uniform_image_is_a_clear_error() -> None:
    with pytest.raises(AnnotationError, match="no garment stands out"):
        garment_mask(np.full((64, 48, 3), 245, np.uint8), "blank.jpg")


def test_annotator_protocol_and_missing_garment(vitonhd: Path) -> None:
    record = read_truth(vitonhd)[1]
    cloth = decode_image(vitonhd / record["garment"])
    annotator = GarmentMaskAnnotator()
    out = annotator([AnnotationInput("s1", {"garment_path": record["garment"]}, vitonhd, garment=cloth)])
    mask = out[0]["garment_mask"]
    assert mask.shape == cloth.shape[:2] and mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    with pytest.raises(AnnotationError, match="s2: no decoded garment image"):
        annotator([AnnotationInput("s2", {}, vitonhd)])


def _real_garments() -> list[Path]:
    return sorted(p for d in ("garment_upper", "garment_overall") for p in (REAL / d).glob("*.jpg"))


@pytest.mark.skipif(not _real_garments(), reason="real garment photos not present in ../shared/realdata")
@pytest.mark.parametrize("path", _real_garments(), ids=lambda p: p.name)
def test_real_garment_photo_gets_a_sane_mask(path: Path) -> None:
    mask = garment_mask(decode_image(path), path.name)
    coverage = (mask > 0).mean()
    assert 0.10 <= coverage <= 0.90, coverage
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8))
    areas = sorted(stats[1:, cv2.CC_STAT_AREA], reverse=True)
    assert areas[0] >= 0.95 * sum(areas)  # one main component
    fg = mask > 0
    touched = sum(bool(edge.any()) for edge in (fg[0], fg[-1], fg[:, 0], fg[:, -1]))
    assert touched <= 1
