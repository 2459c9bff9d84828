"""Skeleton tables as data: §3.5 (133 → 134), §4.4 (SMPL-24 → OpenPose-18), §5.1 and §7 colours.

The expected values are written out from reference_spec.md independently of the module.
"""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core import InputError
from scail_pose_core.skeletons import openpose as op
from scail_pose_core.skeletons import smpl

# §3.5 body reorder: OpenPose index → COCO-WholeBody source ("neck" = synthesised)
BODY_FROM_WB = {
    0: 0, 1: "neck", 2: 6, 3: 8, 4: 10, 5: 5, 6: 7, 7: 9, 8: 12, 9: 14, 10: 16,
    11: 11, 12: 13, 13: 15, 14: 2, 15: 1, 16: 4, 17: 3,
}  # fmt: skip


def test_op134_map_body_part() -> None:
    m = op.OP134_FROM_WB133
    assert m.shape == (134,)
    for i, src in BODY_FROM_WB.items():
        assert m[i] == (op.NECK_SOURCE if src == "neck" else src), i


def test_op134_map_feet_face_hands() -> None:
    m = op.OP134_FROM_WB133
    np.testing.assert_array_equal(m[18:24], np.arange(17, 23))  # feet, same order
    np.testing.assert_array_equal(m[24:92], np.arange(23, 91))  # face 68
    np.testing.assert_array_equal(m[92:113], np.arange(91, 112))  # left hand
    np.testing.assert_array_equal(m[113:134], np.arange(112, 133))  # right hand
    # every COCO-WholeBody point used exactly once, plus the neck
    used = np.sort(m[m >= 0])
    np.testing.assert_array_equal(used, np.arange(133))
    assert (op.BODY_SLICE, op.FACE_SLICE, op.LHAND_SLICE, op.RHAND_SLICE) == (
        slice(0, 24), slice(24, 92), slice(92, 113), slice(113, 134),
    )  # fmt: skip


def _apply_map(xy: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A tiny application of the map: (133, 2), (133,) → (134, 2), (134,) (neck per §3.5)."""
    m = op.OP134_FROM_WB133
    ls, rs = op.WB_LEFT_SHOULDER, op.WB_RIGHT_SHOULDER
    neck_xy = (xy[ls] + xy[rs]) / 2
    thr = op.SCORE_THRESHOLD
    neck_s = 1.0 if (scores[ls] > thr and scores[rs] > thr) else 0.0
    out_xy = np.where((m == op.NECK_SOURCE)[:, None], neck_xy, xy[np.maximum(m, 0)])
    out_s = np.where(m == op.NECK_SOURCE, neck_s, scores[np.maximum(m, 0)])
    return out_xy, out_s


def test_neck_example_12_4() -> None:
    xy = np.zeros((133, 2))
    s = np.ones(133)
    xy[5], s[5] = (0.4, 0.3), 0.9  # COCO L shoulder
    xy[6], s[6] = (0.6, 0.3), 0.2  # COCO R shoulder
    out_xy, out_s = _apply_map(xy, s)
    np.testing.assert_allclose(out_xy[1], [0.5, 0.3])
    assert out_s[1] == 0.0
    subset1 = 1.0 if out_s[1] > op.SCORE_THRESHOLD else -1.0
    assert subset1 == -1.0
    # reorder: OpenPose 2 (R shoulder) comes from COCO 6, OpenPose 5 (L shoulder) from COCO 5
    np.testing.assert_allclose(out_xy[2], [0.6, 0.3])
    np.testing.assert_allclose(out_xy[5], [0.4, 0.3])
    # both shoulders visible → neck visible
    s[6] = 0.31
    assert _apply_map(xy, s)[1][1] == 1.0


def test_neck_is_mean_regardless_of_visibility() -> None:
    xy = np.zeros((133, 2))
    xy[5], xy[6] = (0.1, 0.2), (0.3, 0.6)
    out_xy, out_s = _apply_map(xy, np.zeros(133))
    np.testing.assert_allclose(out_xy[1], [0.2, 0.4])
    assert out_s[1] == 0.0


# §4.4: OpenPose slot → SMPL source (−1 = stays zero)
SMPL_TABLE = [15, 12, 17, 19, 21, 16, 18, 20, 2, 5, 8, 1, 4, 7, -1, -1, -1, -1]


def test_smpl_to_openpose18_table() -> None:
    np.testing.assert_array_equal(smpl.OP18_FROM_SMPL24, SMPL_TABLE)
    assert smpl.JOINT_NAMES[15] == "head" and smpl.JOINT_NAMES[12] == "neck"
    assert smpl.PARENTS[0] == -1 and len(smpl.PARENTS) == 24


def test_smpl_to_openpose18_application() -> None:
    joints = np.arange(2 * 24 * 3, dtype=np.float32).reshape(2, 24, 3) + 1
    out = smpl.smpl24_to_openpose18(joints)
    assert out.shape == (2, 18, 3) and out.dtype == np.float32
    for slot, src in enumerate(SMPL_TABLE):
        if src < 0:
            assert np.all(out[:, slot] == 0)
        else:
            np.testing.assert_array_equal(out[:, slot], joints[:, src])
    with pytest.raises(InputError, match="expected"):
        smpl.smpl24_to_openpose18(np.zeros((18, 3)))


# §5.1: limb, joints, base RGB
LIMB_TABLE = [
    ((1, 2), (255, 0, 0)), ((1, 5), (0, 255, 255)), ((2, 3), (255, 85, 0)),
    ((3, 4), (255, 170, 0)), ((5, 6), (0, 170, 255)), ((6, 7), (0, 85, 255)),
    ((1, 8), (180, 255, 0)), ((8, 9), (0, 255, 0)), ((9, 10), (0, 255, 85)),
    ((1, 11), (0, 0, 255)), ((11, 12), (85, 0, 255)), ((12, 13), (170, 0, 255)),
    ((1, 0), (150, 150, 150)), ((0, 14), (255, 0, 170)), ((14, 16), (50, 0, 255)),
    ((0, 15), (255, 0, 170)), ((15, 17), (50, 0, 255)),
]  # fmt: skip
# §5.1 render colours (c/300 + 0.15) of limbs 0–12
RENDER_RGB = [
    (1.0, 0.15, 0.15), (0.15, 1.0, 1.0), (1.0, 0.433333, 0.15), (1.0, 0.716667, 0.15),
    (0.15, 0.716667, 1.0), (0.15, 0.433333, 1.0), (0.75, 1.0, 0.15), (0.15, 1.0, 0.15),
    (0.15, 1.0, 0.433333), (0.15, 0.15, 1.0), (0.433333, 0.15, 1.0), (0.716667, 0.15, 1.0),
    (0.65, 0.65, 0.65),
]  # fmt: skip


def test_limbs_colours_and_draw_order() -> None:
    assert list(op.LIMBS) == [j for j, _ in LIMB_TABLE]
    assert list(op.LIMB_COLORS_SINGLE) == [c for _, c in LIMB_TABLE]
    assert list(op.LIMB_DRAW_ORDER) == [0, 2, 3, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    assert list(op.LIMBS_3D) == list(range(13))
    for limb in op.LIMBS_3D:  # only limbs among the SMPL-mapped slots 0–13 can be capsules
        a, b = op.LIMBS[limb]
        assert SMPL_TABLE[a] >= 0 and SMPL_TABLE[b] >= 0
    for limb in range(13, 17):
        assert -1 in (SMPL_TABLE[op.LIMBS[limb][0]], SMPL_TABLE[op.LIMBS[limb][1]])


@pytest.mark.parametrize("limb", range(13))
def test_render_colour(limb: int) -> None:
    r, g, b, a = op.render_color(op.LIMB_COLORS_SINGLE[limb])
    np.testing.assert_allclose((r, g, b), RENDER_RGB[limb], atol=1e-6)
    assert a == 0.8 == op.LIMB_ALPHA


def test_red_example_12_5() -> None:
    assert op.render_color((255, 0, 0)) == pytest.approx((1.0, 0.15, 0.15, 0.8))


# §7 multi-person palettes, limbs 0–12
MULTI_0 = [
    (255, 150, 150), (180, 230, 240), (255, 180, 140), (255, 215, 150), (160, 200, 255),
    (100, 120, 255), (200, 255, 100), (100, 255, 100), (140, 255, 180), (120, 140, 255),
    (180, 90, 255), (190, 120, 255), (210, 210, 210),
]  # fmt: skip
MULTI_1 = [
    (255, 20, 20), (0, 230, 255), (255, 60, 0), (255, 110, 0), (0, 130, 255), (0, 70, 255),
    (160, 255, 40), (0, 255, 50), (0, 255, 100), (0, 0, 255), (80, 0, 255), (160, 0, 255),
    (130, 130, 130),
]  # fmt: skip


def test_multi_person_palettes() -> None:
    assert list(op.LIMB_COLORS_MULTI_0) == MULTI_0
    assert list(op.LIMB_COLORS_MULTI_1) == MULTI_1


def test_layout_constants() -> None:
    assert len(op.BODY18_NAMES) == 18 and op.BODY18_NAMES[1] == "neck"
    assert op.BODY18_NAMES[14:] == ("r_eye", "l_eye", "r_ear", "l_ear")
    assert (op.NUM_BODY, op.NUM_FACE, op.NUM_HAND, op.NUM_OP134) == (24, 68, 21, 134)
    assert op.SCORE_THRESHOLD == 0.3 and op.INVISIBLE == -1.0
