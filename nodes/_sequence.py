"""Small PoseSequence helpers shared by the nodes (checks and field replacement only)."""

from __future__ import annotations

from dataclasses import replace

import torch

from ..scail_pose_core.errors import InputError
from ..scail_pose_core.types import PoseSequence


def check_frames_match(seq: PoseSequence, images: torch.Tensor, what: str) -> None:
    """Fail fast when an IMAGE batch and a pose sequence disagree in count or size."""
    n, h, w = int(images.shape[0]), int(images.shape[1]), int(images.shape[2])
    if n != len(seq) or (h, w) != tuple(seq.size_hw):
        raise InputError(
            f"{what}: the images are {n} frames of {w}x{h} but the poses were measured on "
            f"{len(seq)} frames of {seq.size_hw[1]}x{seq.size_hw[0]}. Feed the same frames "
            "(after the same Resize & Crop) to both."
        )


def with_pose3d(seq: PoseSequence, poses3d) -> PoseSequence:
    """``seq`` with each frame's ``pose3d`` replaced (one Pose3D per frame)."""
    frames = tuple(replace(f, pose3d=p) for f, p in zip(seq.frames, poses3d, strict=True))
    return replace(seq, frames=frames)
