"""The reference's orientation choice and "resize for rectangle crop" (reference_spec.md §1.2).

Orientation comes from the driving video: H < W → landscape (res[0], res[1]) = (512, 896);
otherwise (square included) portrait (res[1], res[0]). The frame is resized so it covers the
target (truncating int), then centre-cropped with floor division.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

DEFAULT_RESOLUTION: tuple[int, int] = (512, 896)


def target_size_for(
    frame_hw: tuple[int, int], resolution: tuple[int, int] = DEFAULT_RESOLUTION
) -> tuple[int, int]:
    """Target (H, W) for a frame of size ``frame_hw``; orientation from the frame (§1.2).

    Args:
        frame_hw: (H, W) of the driving video.
        resolution: (short, long) pair as given on the reference CLI, e.g. (512, 896).
    """
    h, w = frame_hw
    if h <= 0 or w <= 0:
        raise InputError(f"frame size must be positive, got {frame_hw}")
    a, b = resolution
    return (a, b) if h < w else (b, a)


@dataclass(frozen=True)
class CropGeometry:
    """How a frame of ``in_hw`` becomes ``target_hw``: resize to ``resized_hw``, crop at (top, left)."""

    in_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    top: int
    left: int
    target_hw: tuple[int, int]


def plan_resize_crop(in_hw: tuple[int, int], target_hw: tuple[int, int]) -> CropGeometry:
    """Compute the reference resize-then-centre-crop geometry (§1.2 step 3, vectors §12.2)."""
    h_in, w_in = in_hw
    th, tw = target_hw
    if min(h_in, w_in, th, tw) <= 0:
        raise InputError(f"sizes must be positive: input {in_hw}, target {target_hw}")
    if w_in / h_in > tw / th:
        rh, rw = th, int(w_in * th / h_in)
    else:
        rh, rw = int(h_in * tw / w_in), tw
    return CropGeometry(
        in_hw=(h_in, w_in),
        resized_hw=(rh, rw),
        top=(rh - th) // 2,
        left=(rw - tw) // 2,
        target_hw=(th, tw),
    )
