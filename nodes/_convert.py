"""ComfyUI IMAGE/MASK tensors <-> the core's numpy arrays.

IMAGE is torch.float32 [B, H, W, C] in [0, 1] (C = 3, or 4 with alpha); MASK is torch.float32
[B, H, W] (or [H, W]) in [0, 1]. The core takes uint8 RGB (T, H, W, 3) and bool masks.
"""

from __future__ import annotations

import numpy as np
import torch

from ..scail_pose_core.errors import InputError


def image_to_uint8(image: torch.Tensor, name: str = "images") -> np.ndarray:
    """IMAGE [B,H,W,C] float in [0,1] -> uint8 (B,H,W,3) RGB (alpha dropped, values rounded)."""
    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[-1] not in (3, 4):
        shape = tuple(image.shape) if hasattr(image, "shape") else type(image).__name__
        raise InputError(
            f"{name}: expected a ComfyUI IMAGE batch [B, H, W, 3], got {shape}. "
            "Connect an IMAGE output (e.g. Load Image or a video loader)."
        )
    if image.shape[0] == 0:
        raise InputError(f"{name}: the IMAGE batch is empty (0 frames).")
    arr = image[..., :3].detach().to("cpu", torch.float32).clamp(0, 1).mul(255).round()
    return arr.to(torch.uint8).numpy()


def uint8_to_image(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T,H,W,3|4) -> IMAGE [T,H,W,3] float32 in [0,1] (alpha dropped)."""
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    return torch.from_numpy(np.ascontiguousarray(frames[..., :3])).float().div(255.0)


def mask_to_bool(mask: torch.Tensor, name: str = "mask", threshold: float = 0.5) -> np.ndarray:
    """MASK [B,H,W] or [H,W] float -> bool (B,H,W), True where the value exceeds ``threshold``."""
    if not isinstance(mask, torch.Tensor) or mask.ndim not in (2, 3):
        shape = tuple(mask.shape) if hasattr(mask, "shape") else type(mask).__name__
        raise InputError(f"{name}: expected a ComfyUI MASK [B, H, W], got {shape}.")
    m = mask if mask.ndim == 3 else mask[None]
    return (m.detach().to("cpu", torch.float32) > threshold).numpy()


def bool_to_mask(masks: np.ndarray) -> torch.Tensor:
    """bool/float (T,H,W) -> MASK [T,H,W] float32 in [0,1]."""
    return torch.from_numpy(np.ascontiguousarray(np.asarray(masks, dtype=np.float32)))


def pick_preview_frames(n: int, limit: int = 8) -> list[int]:
    """Up to ``limit`` evenly spaced frame indices of a clip of ``n`` frames (first and last)."""
    if n <= limit:
        return list(range(n))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})


def iter_uint8_chunks(image: torch.Tensor, chunk: int = 32, name: str = "images"):
    """IMAGE [B,H,W,C] -> uint8 (t,H,W,3) chunks, converted lazily (bounded extra memory)."""
    image_to_uint8(image[:1], name)  # validates the whole batch's layout up front
    for start in range(0, int(image.shape[0]), chunk):
        yield image_to_uint8(image[start : start + chunk], name)


def frame_size(image: torch.Tensor) -> tuple[int, int]:
    """(H, W) of an IMAGE batch."""
    return int(image.shape[1]), int(image.shape[2])
