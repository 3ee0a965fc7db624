"""Shifted validation: the validation originals passed through fixed, seeded corruptions.

Validation films from the training hospital are separable (AUC 1.000), so they cannot rank candidates. The
same films, changed the ways other hospitals' and devices' films differ, are not. Two families:

- ``HELD_OUT``: never used as training augmentation (or far outside its range); model selection reads these.
- ``EVERYDAY``: film features the model is *trained* to ignore (collimation borders, burned-in labels, edge
  enhancement); reported, and used for the gate's false-refusal rate, not for selection.

Every function takes and returns a float32 (H, W) image in [0, 1] at source resolution, before the model's
resize, and draws only from the ``rng`` it is given, so a variant of a file is the same in every run.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

Variant = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _pil(x: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8))


def _arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32) / 255.0


def crop_tighter(x: np.ndarray, _rng: np.random.Generator, fraction: float = 0.15) -> np.ndarray:
    h, w = x.shape
    dy, dx = int(round(h * fraction / 2)), int(round(w * fraction / 2))
    return x[dy:h - dy, dx:w - dx]


def gamma(value: float) -> Variant:
    return lambda x, _rng: np.clip(x, 0.0, 1.0) ** value


def histogram_equalise(x: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    from PIL import ImageOps

    return _arr(ImageOps.equalize(_pil(x)))


def jpeg(quality: int) -> Variant:
    def apply(x: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        buffer = io.BytesIO()
        _pil(x).save(buffer, "JPEG", quality=quality)
        return _arr(Image.open(io.BytesIO(buffer.getvalue())))
    return apply


def low_resolution(x: np.ndarray, _rng: np.random.Generator, side: int = 96) -> np.ndarray:
    img = _pil(x)
    small = img.resize((max(side * img.width // max(img.height, 1), 8), side), Image.Resampling.NEAREST)
    return _arr(small.resize(img.size, Image.Resampling.NEAREST))


def blur(radius: float) -> Variant:
    return lambda x, _rng: _arr(_pil(x).filter(ImageFilter.GaussianBlur(radius * max(x.shape) / 256)))


def noise(std: float) -> Variant:
    return lambda x, rng: np.clip(x + rng.normal(0.0, std, x.shape).astype(np.float32), 0.0, 1.0)


def rotate(degrees: float) -> Variant:
    def apply(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        angle = degrees if rng.random() < 0.5 else -degrees
        img = Image.fromarray(np.ascontiguousarray(x, dtype=np.float32), mode="F")
        return np.asarray(img.rotate(angle, Image.Resampling.BILINEAR, fillcolor=float(np.median(x[:4]))),
                          dtype=np.float32)
    return apply


def border(fraction: float, value: float) -> Variant:
    """A uniform frame around the whole film, as collimation or a scanner leaves."""
    def apply(x: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        h, w = x.shape
        py, px = int(round(h * fraction)), int(round(w * fraction))
        return np.pad(x, ((py, py), (px, px)), constant_values=value).astype(np.float32)
    return apply


def burned_label(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A white marker box with dark strokes in an upper corner (the side marker / annotation)."""
    out = x.copy()
    h, w = x.shape
    bh, bw = int(h * 0.08), int(w * 0.18)
    top = int(h * 0.03)
    left = int(w * 0.04) if rng.random() < 0.5 else w - int(w * 0.04) - bw
    out[top:top + bh, left:left + bw] = 1.0
    for k in range(3):
        y = top + bh // 4 + k * bh // 5
        out[y:y + max(bh // 10, 1), left + bw // 8:left + bw - bw // 8] = 0.1
    return out


def unsharp(x: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
    """Edge enhancement as CR/DX consoles apply it (radius ~ 2 % of the film, strong amount)."""
    radius = max(2, int(max(x.shape) * 0.02))
    return _arr(_pil(x).filter(ImageFilter.UnsharpMask(radius=radius, percent=150, threshold=0)))


HELD_OUT: dict[str, Variant] = {
    "crop15": crop_tighter,
    "gamma0.45": gamma(0.45),
    "gamma2.2": gamma(2.2),
    "histeq": histogram_equalise,
    "jpeg15": jpeg(15),
    "lowres96": low_resolution,
    "blur3": blur(3.0),
    "noise0.05": noise(0.05),
    "rot12": rotate(12.0),
}
EVERYDAY: dict[str, Variant] = {
    "border_white15": border(0.15, 1.0),
    "border_black15": border(0.15, 0.0),
    "border_black5": border(0.05, 0.0),
    "label": burned_label,
    "unsharp": unsharp,
}
ALL_VARIANTS: dict[str, Variant] = {**HELD_OUT, **EVERYDAY}


def variants_of(image: np.ndarray, key: str, names: list[str] | None = None, seed: int = 20261126
                ) -> dict[str, np.ndarray]:
    """Each named variant of one source image; ``key`` (its relative path) seeds the draws."""
    out = {}
    for name in names or list(ALL_VARIANTS):
        rng = np.random.default_rng(int(hashlib.sha256(f"{seed}|{key}|{name}".encode()).hexdigest()[:16], 16))
        out[name] = ALL_VARIANTS[name](image, rng).astype(np.float32)
    return out
