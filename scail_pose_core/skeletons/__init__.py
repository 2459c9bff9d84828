"""Skeleton layouts as data: COCO-WholeBody-133, OpenPose-18/134 and SMPL-24 (index maps, bones, colours)."""

from __future__ import annotations

from . import openpose, smpl

__all__ = ["openpose", "smpl"]
