"""Camera and image geometry: FOV intrinsics, projection, resize-and-centre-crop."""

from __future__ import annotations

from .camera import DEFAULT_FOV_DEG, fov_focal, project, unproject
from .crop import CropGeometry, plan_resize_crop, target_size_for

__all__ = [
    "DEFAULT_FOV_DEG",
    "CropGeometry",
    "fov_focal",
    "plan_resize_crop",
    "project",
    "target_size_for",
    "unproject",
]
