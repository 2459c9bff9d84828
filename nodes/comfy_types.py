"""Our custom wire types (all prefixed ``SCAIL_``) and the model handles they carry.

* ``SCAIL_POSES``: a :class:`scail_pose_core.types.PoseSequence` (immutable; nodes return new ones).
* ``SCAIL_DWPOSE_MODEL``: :class:`DWPoseModels` (YOLOX person detector + DWPose estimator).
* ``SCAIL_NLF_MODEL``: :class:`ModelHandle` around the core's NLF model.
* ``SCAIL_SAM2_MODEL``: :class:`ModelHandle` around the core's ``Sam2Segmenter``.
* ``SCAIL_CHARACTER_MASKS``: the core's ``CharacterMasks`` (bool (T, C, H, W), one per character).

IMAGE and MASK are ComfyUI's own types (see ``_convert``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comfy_api.latest import io

PoseSequenceIO = io.Custom("SCAIL_POSES")
DWPoseModelIO = io.Custom("SCAIL_DWPOSE_MODEL")
NLFModelIO = io.Custom("SCAIL_NLF_MODEL")
SAM2ModelIO = io.Custom("SCAIL_SAM2_MODEL")
CharacterMasksIO = io.Custom("SCAIL_CHARACTER_MASKS")
#: ComfyUI's pose interchange type (comfyui_controlnet_aux, core SDPose): list of frame dicts.
PoseKeypointIO = io.Custom("POSE_KEYPOINT")


@dataclass(frozen=True)
class ModelHandle:
    """A loaded core model plus where it came from (ComfyUI caches this output)."""

    model: Any
    path: str
    device: str


@dataclass(frozen=True)
class DWPoseModels:
    """The 2D pair: ``detector`` (YoloxDetector) and ``estimator`` (DWPoseEstimator)."""

    detector: Any
    estimator: Any
    detector_path: str
    estimator_path: str
    providers: tuple[str, ...]
