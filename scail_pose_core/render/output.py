"""Sampler-ready output: RGB float frames on black + MASK, size checks, 4n+1 frame counts.

Consumers (../shared/spec/users_and_peers.md §(b)):

* WanVideoWrapper ``WanVideoAddSCAILPoseEmbeds`` wants pose frames at **half** the generation
  size, generation W and H multiples of 32 (so the pose frames are multiples of 16), 4n+1
  frames. ``output_size="half"`` gives exactly that (bilinear, align_corners False, no
  antialias — SCAIL's own ``smpl_downsample``).
* ComfyUI core ``WanSCAILToVideo`` takes the **full** generation size and halves it itself
  (``output_size="full"``, the reference behaviour); its width/height widgets step by 32.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

from ..errors import InputError

LOGGER = logging.getLogger("scail_pose")

OUTPUT_SIZES = ("full", "half")
FRAMES_4N1 = ("none", "trim", "pad")
SIZE_MULTIPLE = 32


def _nearest_multiples(v: int, m: int = SIZE_MULTIPLE) -> tuple[int, int]:
    lo = max(m, (v // m) * m)
    hi = lo if v % m == 0 else lo + m
    return lo, hi


def check_output_size(size_hw: tuple[int, int], output_size: str) -> tuple[int, int]:
    """Validate the render size for ``output_size`` and return the output (H, W).

    ``"full"`` is the reference output and accepts any size: ComfyUI's WanSCAILToVideo resizes
    and centre-crops the pose video to its own width/height itself, and the reference's
    multi-person job renders at the video's native size. ``"half"`` is for WanVideoWrapper,
    which takes the pose frames unresized at exactly half the generation size, with generation
    width and height multiples of 32; other sizes get an error naming the nearest that work.

    Raises:
        InputError: unknown ``output_size``, or ``"half"`` with a size that is not a multiple
            of 32.
    """
    if output_size not in OUTPUT_SIZES:
        raise InputError(f"output_size must be one of {OUTPUT_SIZES}, got {output_size!r}")
    h, w = (int(v) for v in size_hw)
    if output_size == "half" and (h % SIZE_MULTIPLE or w % SIZE_MULTIPLE):
        hs, ws = _nearest_multiples(h), _nearest_multiples(w)
        options = sorted({(a, b) for a in hs for b in ws})
        named = ", ".join(f"{b}x{a}" for a, b in options)
        raise InputError(
            f"render size {w}x{h} (WxH) does not fit WanVideoWrapper: it needs pose frames at "
            f"half the generation size, with generation width/height multiples of 32. Sizes "
            f"that work near it: {named} (e.g. 896x512 or 512x896). Resize/crop the driving "
            f"video to one of these before extracting poses, or use output_size 'full' for "
            f"ComfyUI's WanSCAILToVideo, which resizes the pose video itself."
        )
    return (h // 2, w // 2) if output_size == "half" else (h, w)


def frame_count_4n1(n: int, mode: str) -> int:
    """Frame count after ``mode`` ("none" keeps n; "trim" → largest 4k+1 ≤ n; "pad" → smallest
    4k+1 ≥ n)."""
    if mode not in FRAMES_4N1:
        raise InputError(f"frames_4n1 must be one of {FRAMES_4N1}, got {mode!r}")
    if n <= 0:
        return 0
    if mode == "trim":
        return ((n - 1) // 4) * 4 + 1
    if mode == "pad":
        return -(-(n - 1) // 4) * 4 + 1
    return n


def rgba_to_image_mask(
    rgba: np.ndarray | torch.Tensor,
    output_size: str = "full",
    out: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(T, H, W, 4) uint8 RGBA → IMAGE (T, h, w, 3) float32 in [0, 1] on black and MASK
    (T, h, w) float32 (1 where alpha > 0), both on the CPU; halved bilinearly (align_corners
    False, no antialias) when ``output_size == "half"``. ``out`` = (image, mask) tensors of
    the right shape to write into (saves a copy for long videos)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    x = torch.as_tensor(rgba)
    if output_size == "full" and out is not None:
        # ``out`` is zero-filled: write only the non-black pixels (most of a frame is black)
        img, mask = out
        flat = x.reshape(-1, 4)
        idx = (flat.view(torch.int32).reshape(-1) != 0).nonzero().squeeze(1)
        sel = flat[idx]
        img.view(-1, 3)[idx] = sel[:, :3].to(torch.float32) / 255.0
        mask.view(-1)[idx] = (sel[:, 3] > 0).to(torch.float32)
        return img, mask
    img = x[..., :3].to(torch.float32) / 255.0
    mask = (x[..., 3] > 0).to(torch.float32)
    if output_size == "half":
        h, w = img.shape[1] // 2, img.shape[2] // 2
        img = F.interpolate(img.permute(0, 3, 1, 2), size=(h, w), mode="bilinear",
                            align_corners=False, antialias=False).permute(0, 2, 3, 1)  # fmt: skip
        mask = F.interpolate(mask[:, None], size=(h, w), mode="bilinear", align_corners=False,
                             antialias=False)[:, 0]  # fmt: skip
        img = img.clamp(0.0, 1.0).contiguous()
        mask = mask.clamp(0.0, 1.0).contiguous()
    if out is not None:
        out[0].copy_(img)
        out[1].copy_(mask)
        return out
    return img.cpu(), mask.cpu()
