"""Grad-CAM registration: the heatmap lands on the evidence at any aspect ratio and after EXIF rotation.

The evidence is known by construction: the test network's CAM layer is an 4x4 average of the (standardised)
input followed by ReLU, and the head is global-average-pool + a positive weight, so Grad-CAM must reproduce a
low-resolution copy of the bright blob. What is under test is the geometry: squash to a square, CAM at
stride 4, upsampling back to the original rows x cols. The network runs as the app runs it: its ONNX export,
the map computed from the exported feature maps and the head weights (core/gradcam.py). The export is
committed (tests/data/evidence_net, written by tests/tiny_models.py), so these run without torch.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pneumo_desktop.core.gradcam import class_activation_maps, upsample_cam
from pneumo_desktop.core.image import LoadedImage
from pneumo_desktop.core.predictor import Predictor
from tests.conftest import committed_model, needs_torch

SIZE = 96  # the evidence network's input size (tests/tiny_models.py: EvidenceNet)


@pytest.fixture(scope="module")
def predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    """The committed export of EvidenceNet (tests/data/evidence_net), loaded as the app loads a model."""
    predictor = Predictor.load(committed_model("evidence_net", tmp_path_factory.mktemp("evidence")))
    assert predictor.size == SIZE
    return predictor


def blob(rows: int, cols: int, centre: tuple[int, int], radius: float = 18.0) -> np.ndarray:
    yy, xx = np.mgrid[0:rows, 0:cols]
    img = 0.3 + 0.6 * np.exp(-(((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2) / (2 * radius**2)))
    return img.astype(np.float32)


def centroid(heat: np.ndarray) -> tuple[float, float]:
    w = np.where(heat >= 0.5 * heat.max(), heat, 0.0)
    yy, xx = np.mgrid[0:heat.shape[0], 0:heat.shape[1]]
    return float((yy * w).sum() / w.sum()), float((xx * w).sum() / w.sum())


@pytest.mark.parametrize(
    ("shape", "centre"),
    [((300, 900), (100, 650)), ((900, 300), (600, 80)), ((300, 900), (220, 150)), ((512, 512), (60, 400))],
)
def test_heatmap_peak_on_blob_for_non_square_images(predictor: Predictor, shape, centre) -> None:
    image = LoadedImage(blob(*shape, centre), Path("synthetic.png"), "raster", "0" * 64)
    heat = predictor.predict(image).heatmap(shape)
    assert heat is not None and heat.shape == shape
    cy, cx = centroid(heat)
    assert abs(cy - centre[0]) <= 4 and abs(cx - centre[1]) <= 4, (cy, cx)
    peak = np.unravel_index(np.argmax(heat), shape)
    # The argmax can only be as fine as one CAM cell (stride 4 in the squashed 96-px input).
    cell = (shape[0] / (SIZE / 4), shape[1] / (SIZE / 4))
    assert abs(peak[0] - centre[0]) <= cell[0] and abs(peak[1] - centre[1]) <= cell[1]


def test_heatmap_follows_exif_rotation(predictor: Predictor, tmp_path: Path) -> None:
    from pneumo_desktop.core.loader import load_image

    stored = blob(300, 900, (80, 700))
    im = Image.fromarray((stored * 255).astype(np.uint8), mode="L")
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=95, exif=exif)
    path = tmp_path / "rotated.jpg"
    path.write_bytes(buf.getvalue())
    loaded = load_image(path)
    assert loaded.shape == (900, 300)
    # Rotating the stored image clockwise moves stored (r, c) to displayed (c, rows - 1 - r).
    expected = (700, 300 - 1 - 80)
    heat = predictor.predict(loaded).heatmap(loaded.shape)
    cy, cx = centroid(heat)
    assert abs(cy - expected[0]) <= 5 and abs(cx - expected[1]) <= 5, (cy, cx)


@needs_torch
def test_hooks_are_released() -> None:
    import torch

    from tests.tiny_models import EvidenceNet
    from training.gradcam import grad_cam

    model = EvidenceNet().eval()
    grad_cam(model, torch.zeros(1, 1, SIZE, SIZE), "features")
    assert not model.features._forward_hooks


def test_upsample_keeps_cell_centres() -> None:
    cam = np.zeros((4, 4), np.float32)
    cam[1, 2] = 1.0
    up = upsample_cam(cam, (400, 800))
    # Cell (1, 2) of a 4x4 grid over 400x800 is centred on row 150, column 500.
    assert np.unravel_index(np.argmax(up), up.shape) in {(149, 499), (150, 500), (149, 500), (150, 499)}


@needs_torch
def test_upsample_equals_torch_bilinear_with_half_pixel_centres() -> None:
    import torch

    cam = np.random.default_rng(4).random((7, 7), dtype=np.float32)
    for shape in [(2048, 1536), (300, 900), (7, 7), (5, 3), (64, 1)]:
        expected = torch.nn.functional.interpolate(torch.from_numpy(cam)[None, None], size=shape, mode="bilinear",
                                                   align_corners=False)[0, 0].clamp(0, 1).numpy()
        np.testing.assert_allclose(upsample_cam(cam, shape), expected, atol=1e-6)


def test_an_all_negative_map_stays_zero() -> None:
    features = np.ones((1, 2, 3, 3), np.float32)
    assert not class_activation_maps([features], [np.array([-1.0, -2.0], np.float32)]).any()


@needs_torch
def test_head_only_backward_gives_the_same_map() -> None:
    """training.gradcam stops the backward pass at the CAM layer of a frozen model: the map is the same."""
    import torch

    from tests.conftest import tiny_network
    from training.gradcam import grad_cam

    x = torch.from_numpy(np.random.default_rng(3).random((2, 1, 64, 64), dtype=np.float32))
    trainable = tiny_network()
    frozen = tiny_network().requires_grad_(False)
    a = grad_cam(frozen, x, "features.4")
    b = grad_cam(trainable, x, "features.4")
    np.testing.assert_allclose(a[3], b[3], atol=1e-5)
    torch.testing.assert_close(a[0], b[0])
