"""Interchange formats: the reference pose dict, ComfyUI POSE_KEYPOINT, our save format."""

from __future__ import annotations

from .reference_dict import pose2d_from_reference_dict, pose2d_to_reference_dict

__all__ = ["pose2d_from_reference_dict", "pose2d_to_reference_dict"]
