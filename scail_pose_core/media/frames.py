"""Frame arrays: the reference resize-and-centre-crop and float ↔ uint8 conversion.

Frames are RGB ``uint8`` arrays shaped (T, H, W, 3) (a single image may be (H, W, 3)).
ComfyUI IMAGE tensors are float32 (B, H, W, 3) in [0, 1]; :func:`uint8_to_float` and
:func:`float_to_uint8` convert between the two (numpy arrays or torch tensors).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..geometry.crop import CropGeometry

#: Pixels (T·H·W) resized per torch call; bounds the float32 working memory (~200 MB at 3 channels).
DEFAULT_MAX_PIXELS_PER_CHUNK = 1 << 24


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def uint8_to_float(frames: Any) -> Any:
    """uint8 [0, 255] → float32 [0, 1]; numpy in → numpy out, torch in → torch out (same shape)."""
    if _is_torch(frames):
        import torch

        if frames.dtype != torch.uint8:
            raise InputError(f"uint8_to_float: expected a uint8 tensor, got {frames.dtype}")
        return frames.to(torch.float32) / 255.0
    a = np.asarray(frames)
    if a.dtype != np.uint8:
        raise InputError(f"uint8_to_float: expected a uint8 array, got {a.dtype}")
    return a.astype(np.float32) / np.float32(255.0)


def float_to_uint8(images: Any) -> Any:
    """float [0, 1] → uint8 [0, 255], rounded to nearest and clamped; numpy or torch as given."""
    if _is_torch(images):
        import torch

        return (images.detach().float() * 255.0).clamp(0.0, 255.0).round().to(torch.uint8)
    a = np.asarray(images, dtype=np.float32)
    return np.rint(np.clip(a * np.float32(255.0), 0.0, 255.0)).astype(np.uint8)


def as_rgb_chunk(chunk: Any, what: str = "frames") -> np.ndarray:
    """A chunk of video frames as a uint8 (t, H, W, 3) RGB array; one frame (H, W, 3) becomes t=1.

    Raises:
        InputError: another dtype, rank or channel count (``what`` names the input).
    """
    a = np.asarray(chunk)
    if a.ndim == 3:
        a = a[None]
    if a.dtype != np.uint8 or a.ndim != 4 or a.shape[-1] != 3:
        raise InputError(
            f"{what}: expected uint8 RGB frames shaped (T, H, W, 3), got {a.dtype} {a.shape}"
        )
    return a


def _check_frames(frames: np.ndarray, geom: CropGeometry) -> np.ndarray:
    a = np.asarray(frames)
    if a.dtype != np.uint8 or a.ndim != 4 or a.shape[-1] != 3:
        raise InputError(
            f"resize_crop: expected uint8 frames shaped (T, H, W, 3), got {a.dtype} {a.shape}"
        )
    if tuple(a.shape[1:3]) != tuple(geom.in_hw):
        raise InputError(
            f"resize_crop: frames are {a.shape[1]}x{a.shape[2]} (HxW) but the crop plan was made "
            f"for {geom.in_hw[0]}x{geom.in_hw[1]}; plan it with plan_resize_crop(frame size, target)"
        )
    return a


def _resize_chunk(chunk: np.ndarray, resized_hw: tuple[int, int]) -> np.ndarray:
    """Bicubic, antialiased resize of (t, H, W, 3) uint8 the way torchvision resizes a uint8
    tensor: float32 → ``interpolate(mode="bicubic", align_corners=False, antialias=True)`` →
    clamp [0, 255] → round half to even → uint8."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(chunk)).permute(0, 3, 1, 2)  # T×C×H×W view
    out = torch.nn.functional.interpolate(
        t.to(torch.float32),
        size=list(resized_hw),
        mode="bicubic",
        align_corners=False,
        antialias=True,
    )
    out = out.clamp_(0.0, 255.0).round_().to(torch.uint8)
    return out.permute(0, 2, 3, 1).numpy()


def resize_crop(
    frames: np.ndarray,
    geom: CropGeometry,
    max_pixels_per_chunk: int = DEFAULT_MAX_PIXELS_PER_CHUNK,
) -> np.ndarray:
    """Resize then centre-crop frames exactly like the reference (reference_spec.md §1.2).

    Args:
        frames: uint8 RGB, (T, H, W, 3) — or a single (H, W, 3) image — with (H, W) equal to
            ``geom.in_hw``.
        geom: the plan from :func:`~scail_pose_core.geometry.crop.plan_resize_crop`.
        max_pixels_per_chunk: frames are resized in groups of at most this many input pixels,
            so the float32 working memory stays bounded for long or large videos.

    Returns:
        uint8 RGB (T, target_H, target_W, 3) (or (target_H, target_W, 3) for a single image).
    """
    single = np.ndim(frames) == 3
    a = _check_frames(np.asarray(frames)[None] if single else frames, geom)
    (rh, rw), (th, tw) = geom.resized_hw, geom.target_hw
    top, left = geom.top, geom.left
    out = np.empty((a.shape[0], th, tw, 3), np.uint8)
    per = max(1, int(max_pixels_per_chunk) // max(1, a.shape[1] * a.shape[2]))
    for s in range(0, a.shape[0], per):
        chunk = a[s : s + per]
        if (rh, rw) != tuple(a.shape[1:3]):
            chunk = _resize_chunk(chunk, (rh, rw))
        out[s : s + chunk.shape[0]] = chunk[:, top : top + th, left : left + tw]
    return out[0] if single else out
