"""Synthetic stand-in for BSDS300 (super_resolution's data source): 200 train and 100 test
481x321 RGB JPEGs with what natural photos have that matters to super-resolution (smooth
shading, hard edges of shapes, fine texture). Usage: python make_bsds.py RUN_DIR/super_resolution"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

rng = np.random.default_rng(0)
H, W = 321, 481


def image() -> Image.Image:
    yy, xx = np.mgrid[0:H, 0:W] / max(H, W)
    base = np.zeros((H, W, 3))
    for _ in range(3):  # smooth shading
        fx, fy, ph = [*rng.uniform(0.5, 3, 2).tolist(), rng.uniform(0, 6.3)]
        base += rng.uniform(0.1, 0.4, 3) * (1 + np.sin(2 * np.pi * (fx * xx + fy * yy) + ph))[..., None] / 2
    img = Image.fromarray(np.clip(base * 255, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(5, 15))):  # shapes with hard edges
        x0, y0 = int(rng.integers(0, W)), int(rng.integers(0, H))
        x1, y1 = x0 + int(rng.integers(10, 150)), y0 + int(rng.integers(10, 150))
        fill = tuple(int(c) for c in rng.integers(0, 255, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=fill)
    arr = np.asarray(img).astype(float) + rng.normal(0, 8, (H, W, 3))  # fine texture
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


root = Path(sys.argv[1]) / "dataset" / "BSDS300" / "images"
for split, n in (("train", 200), ("test", 100)):
    (root / split).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image().save(root / split / f"{i:06d}.jpg", quality=90)
print(f"wrote {root}")
