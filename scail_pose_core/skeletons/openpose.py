"""OpenPose-18 / OpenPose-134 layouts, the COCO-WholeBody-133 → 134 map and the 3D limb tables.

Sources: reference_spec.md §3.4–§3.5 (2D conversion), §5.1 (limbs, draw order, colours) and §7
(two-person palettes). Everything here is plain data; the code that applies it lives in
``pose2d`` (conversion) and ``render`` (drawing).
"""

from __future__ import annotations

import numpy as np

#: OpenPose-18 body joint names, in OpenPose order.
BODY18_NAMES: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)  # fmt: skip
#: The 6 foot points that follow the body in the 24-point DWPose body (same order as COCO-WB 17–22).
FEET_NAMES: tuple[str, ...] = (
    "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel",
)  # fmt: skip

NUM_BODY = 24  #: body points kept per person (OpenPose-18 + 6 feet)
NUM_FACE = 68
NUM_HAND = 21
NUM_OP134 = 134

#: Slices of the 134-point OpenPose-style array.
BODY_SLICE = slice(0, 24)
FACE_SLICE = slice(24, 92)
LHAND_SLICE = slice(92, 113)
RHAND_SLICE = slice(113, 134)

#: Sentinel in :data:`OP134_FROM_WB133` meaning "the synthesised neck".
NECK_SOURCE = -1

#: For each of the 134 OpenPose-style points, the COCO-WholeBody-133 index it comes from
#: (reference_spec.md §3.5: neck inserted at 17, body reordered to OpenPose-18, rest shifted).
OP134_FROM_WB133: np.ndarray = np.array(
    [0, NECK_SOURCE, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3] + list(range(17, 133)),
    dtype=np.int64,
)
#: COCO-WholeBody indices of the shoulders used to synthesise the neck.
WB_LEFT_SHOULDER = 5
WB_RIGHT_SHOULDER = 6

#: Visibility threshold for body (subset), face and hands and for the neck's shoulders.
SCORE_THRESHOLD = 0.3
#: Coordinate value of an invisible face/hand point in the normalised pose dict.
INVISIBLE = -1.0

#: The 17 OpenPose limbs (joint pairs, 0-based). Only limbs 0–12 can produce 3D capsules.
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
#: Order in which limbs are put into the per-frame capsule list (decides exact ties).
LIMB_DRAW_ORDER: tuple[int, ...] = (0, 2, 3, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
#: Limbs that can become capsules (SMPL → OpenPose-18 never fills eyes/ears 14–17).
LIMBS_3D: tuple[int, ...] = tuple(range(13))

#: Single-person base limb colours, RGB 0–255 (reference_spec.md §5.1).
LIMB_COLORS_SINGLE: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (0, 255, 255), (255, 85, 0), (255, 170, 0), (0, 170, 255), (0, 85, 255),
    (180, 255, 0), (0, 255, 0), (0, 255, 85), (0, 0, 255), (85, 0, 255), (170, 0, 255),
    (150, 150, 150), (255, 0, 170), (50, 0, 255), (255, 0, 170), (50, 0, 255),
)  # fmt: skip
#: Multi-person palette of the first (largest) character, limbs 0–12 (reference_spec.md §7).
LIMB_COLORS_MULTI_0: tuple[tuple[int, int, int], ...] = (
    (255, 150, 150), (180, 230, 240), (255, 180, 140), (255, 215, 150), (160, 200, 255),
    (100, 120, 255), (200, 255, 100), (100, 255, 100), (140, 255, 180), (120, 140, 255),
    (180, 90, 255), (190, 120, 255), (210, 210, 210),
)  # fmt: skip
#: Multi-person palette of the second character, limbs 0–12 (reference_spec.md §7).
LIMB_COLORS_MULTI_1: tuple[tuple[int, int, int], ...] = (
    (255, 20, 20), (0, 230, 255), (255, 60, 0), (255, 110, 0), (0, 130, 255), (0, 70, 255),
    (160, 255, 40), (0, 255, 50), (0, 255, 100), (0, 0, 255), (80, 0, 255), (160, 0, 255),
    (130, 130, 130),
)  # fmt: skip

#: Capsule alpha of every 3D limb.
LIMB_ALPHA = 0.8


def render_color(rgb255: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """Map a base colour (0–255) to the renderer's RGBA: c/300 + 0.15, alpha 0.8 (float64)."""
    r, g, b = (c / 300.0 + 0.15 for c in rgb255)
    return (r, g, b, LIMB_ALPHA)
