"""scail_pose_core: framework-free SCAIL-Pose library (detection → 2D → 3D → retarget → render).

Never imports ComfyUI. Works both as a top-level package (tests, CLI) and as
``<pack>.scail_pose_core`` inside ComfyUI, because all internal imports are relative.
"""

from __future__ import annotations

from .errors import (
    Cancelled,
    InputError,
    MissingWeightsError,
    ModelFormatError,
    OptionalDependencyError,
    ScailPoseError,
)
from .types import Camera, Detections, Pose2D, Pose3D, PoseFrame, PoseSequence

__version__ = "0.1.0"

__all__ = [
    "Camera",
    "Cancelled",
    "Detections",
    "InputError",
    "MissingWeightsError",
    "ModelFormatError",
    "OptionalDependencyError",
    "Pose2D",
    "Pose3D",
    "PoseFrame",
    "PoseSequence",
    "ScailPoseError",
    "__version__",
]
