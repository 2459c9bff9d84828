"""Still images: decode any OpenCV-readable file into uint8 RGB (H, W, 3)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import InputError


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3), like the reference (OpenCV, BGR → RGB).

    The alpha channel is dropped (not composited), grey images become three equal channels,
    16-bit images are scaled to 8 bits and EXIF orientation is applied (OpenCV's defaults).

    Raises:
        InputError: the file is missing, is a folder, or cannot be decoded as an image.
    """
    import cv2

    p = Path(path)
    if not p.is_file():
        what = "is a folder, not an image file" if p.is_dir() else "does not exist"
        raise InputError(f"image {str(p)!r} {what}; pass the path of a .png/.jpg/.webp image")
    data = np.fromfile(p, dtype=np.uint8)  # works with non-ASCII paths on Windows too
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None or img.ndim != 3 or img.shape[0] == 0 or img.shape[1] == 0:
        raise InputError(
            f"cannot decode {str(p)!r} as an image ({data.size} bytes); expected a PNG, JPEG, "
            "WebP, BMP or TIFF file"
        )
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
