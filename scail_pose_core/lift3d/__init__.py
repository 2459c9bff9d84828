"""NLF 3D lifting (reference_spec.md §4) and temporal smoothing of the 3D joints.

* :func:`load_nlf` loads the NLF multi-person TorchScript robustly (:mod:`.nlf`).
* :func:`lift_to_3d` lifts DWPose boxes the reference's way (masked full-size images, batched
  frame-major, detection [0] per box); :func:`lift_full_frames` runs NLF's own detector on whole
  frames; :func:`lift_images` lifts already-masked images (:mod:`.lift`, :mod:`.masking`).
* :func:`smooth_sequence` / :func:`smooth_joints` remove outliers and jitter and fill short
  gaps; off by default (:mod:`.smoothing`).

torch is imported lazily: importing this package does not need it.
"""

from __future__ import annotations

from .lift import LiftOptions, lift_full_frames, lift_images, lift_to_3d
from .masking import expanded_box, expanded_box_px, masked_image
from .nlf import NLFModel, load_nlf
from .smoothing import SmoothOptions, smooth_joints, smooth_sequence

__all__ = [
    "LiftOptions",
    "NLFModel",
    "SmoothOptions",
    "expanded_box",
    "expanded_box_px",
    "lift_full_frames",
    "lift_images",
    "lift_to_3d",
    "load_nlf",
    "masked_image",
    "smooth_joints",
    "smooth_sequence",
]
