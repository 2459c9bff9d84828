"""Camera conventions of the whole package, written down once.

* Images are H×W, row-major; pixel (x, y) = (column, row).
* Cameras are OpenCV-style pinholes at the origin: +x right, +y down, +z forward (into the
  scene). No distortion.
* 3D joints are camera-space **millimetres** (NLF's ``joints3d_nonparam``).
* Intrinsics K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]];
  u = fx·X/Z + cx, v = fy·Y/Z + cy (pixels).
* The reference FOV camera (reference_spec.md §4.3): f = max(H, W) / (2·tan(fov/2)) with
  fov = 55°, principal point exactly (W/2, H/2) — not (W−1)/2.
* 2D keypoints in pose dicts are normalised: x/W, y/H.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_FOV_DEG = 55.0


def fov_focal(size_hw: tuple[int, int], fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in pixels of the FOV camera: max(H, W) / (2·tan(fov/2))."""
    h, w = size_hw
    return max(h, w) / (2.0 * math.tan(math.radians(fov_deg) / 2.0))


def project(points_mm: np.ndarray, fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """Project camera-space points (..., 3) to pixels (..., 2). Points with Z ≤ 0 give inf/nan."""
    p = np.asarray(points_mm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = fx * p[..., 0] / p[..., 2] + cx
        v = fy * p[..., 1] / p[..., 2] + cy
    return np.stack([u, v], axis=-1)


def unproject(
    pixels: np.ndarray, depth_mm: np.ndarray, fx: float, fy: float, cx: float, cy: float
) -> np.ndarray:
    """Inverse of :func:`project`: pixels (..., 2) at depth Z (...) → camera points (..., 3) mm."""
    px = np.asarray(pixels, dtype=np.float64)
    z = np.asarray(depth_mm, dtype=np.float64)
    x = (px[..., 0] - cx) / fx * z
    y = (px[..., 1] - cy) / fy * z
    return np.stack([x, y, np.broadcast_to(z, x.shape)], axis=-1)
