"""SMPL-24 joint layout (NLF output), its kinematic tree and the SMPL-24 → OpenPose-18 map.

Source: reference_spec.md §4.4. Joints are camera-space millimetres (see geometry.camera).
"""

from __future__ import annotations

import numpy as np

NUM_JOINTS = 24

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "l_hip", "r_hip", "spine1", "l_knee", "r_knee", "spine2", "l_ankle", "r_ankle",
    "spine3", "l_foot", "r_foot", "neck", "l_collar", "r_collar", "head", "l_shoulder",
    "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hand", "r_hand",
)  # fmt: skip

#: Parent of each joint in the SMPL kinematic tree (-1 for the root, the pelvis).
PARENTS: np.ndarray = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21],
    dtype=np.int64,
)

HEAD = 15
NECK = 12
L_WRIST = 20
R_WRIST = 21
L_ANKLE = 7
R_ANKLE = 8
L_FOOT = 10
R_FOOT = 11

#: For OpenPose-18 slot i, the SMPL joint it is copied from, or -1 (slot stays (0, 0, 0)).
#: Slot 0 ("nose") is the SMPL *head* joint, as in the reference.
OP18_FROM_SMPL24: np.ndarray = np.array(
    [15, 12, 17, 19, 21, 16, 18, 20, 2, 5, 8, 1, 4, 7, -1, -1, -1, -1], dtype=np.int64
)


def smpl24_to_openpose18(joints: np.ndarray) -> np.ndarray:
    """Map SMPL-24 joints to the reference's 18-slot OpenPose layout.

    Args:
        joints: (..., 24, 3) camera-space joints (mm).

    Returns:
        (..., 18, 3) array of the same dtype; slots 14–17 (eyes, ears) are zero.
    """
    joints = np.asarray(joints)
    if joints.shape[-2:] != (NUM_JOINTS, 3):
        from ..errors import InputError

        raise InputError(f"smpl24_to_openpose18: expected (..., 24, 3) joints, got {joints.shape}")
    out = np.zeros(joints.shape[:-2] + (18, 3), dtype=joints.dtype)
    valid = OP18_FROM_SMPL24 >= 0
    out[..., valid, :] = joints[..., OP18_FROM_SMPL24[valid], :]
    return out
