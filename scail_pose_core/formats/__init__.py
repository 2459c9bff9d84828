"""Interchange formats: the reference pose dict, ComfyUI POSE_KEYPOINT, our save format."""

from __future__ import annotations

from .openpose_json import from_pose_keypoint, to_pose_keypoint
from .reference_dict import pose2d_from_reference_dict, pose2d_to_reference_dict
from .serialize import load_sequence, save_sequence, sequence_from_dict, sequence_to_dict

__all__ = [
    "from_pose_keypoint",
    "load_sequence",
    "pose2d_from_reference_dict",
    "pose2d_to_reference_dict",
    "save_sequence",
    "sequence_from_dict",
    "sequence_to_dict",
    "to_pose_keypoint",
]
