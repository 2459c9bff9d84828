"""2D overlay rules beyond the goldens: own hands per person, uint8 wrap, visibility, colours."""

from __future__ import annotations

import numpy as np

from scail_pose_core import Pose2D
from scail_pose_core.render.draw2d import (
    HAND_EDGE_COLORS,
    composite_overlay,
    draw_overlay,
    line_thickness,
)

SIZE = (512, 896)


def _pose(n: int) -> dict:
    return dict(
        body_norm=np.full((n, 24, 2), 0.5), body_scores=np.zeros((n, 24)),
        face_norm=np.full((n, 68, 2), -1.0), face_scores=np.zeros((n, 68)),
        lhand_norm=np.full((n, 21, 2), -1.0), lhand_scores=np.zeros((n, 21)),
        rhand_norm=np.full((n, 21, 2), -1.0), rhand_scores=np.zeros((n, 21)),
    )  # fmt: skip


def test_hand_edge_colors_match_opencv_rounding() -> None:
    table = [(255, 0, 0), (255, 77, 0), (255, 153, 0), (255, 229, 0), (204, 255, 0),
             (128, 255, 0), (51, 255, 0), (0, 255, 25), (0, 255, 102), (0, 255, 179),
             (0, 255, 255), (0, 178, 255), (0, 102, 255), (0, 25, 255), (51, 0, 255),
             (128, 0, 255), (204, 0, 255), (255, 0, 230), (255, 0, 153), (255, 0, 77)]  # fmt: skip
    assert [tuple(int(np.round(c)) for c in col) for col in HAND_EDGE_COLORS] == table
    assert line_thickness((512, 896)) == 1 and line_thickness((720, 1280)) == 2
    assert line_thickness((256, 448)) == 1 and line_thickness((1024, 1792)) == 2


def test_each_person_draws_its_own_hands() -> None:
    kw = _pose(2)
    # only person 1 has a (right) hand: one edge 0→1, horizontal at row 100
    kw["rhand_norm"][1, 0] = (100.5 / 896, 100.5 / 512)
    kw["rhand_norm"][1, 1] = (140.5 / 896, 100.5 / 512)
    kw["rhand_scores"][1, :2] = 1.0
    canvas = draw_overlay(Pose2D(**kw), SIZE)
    ys, xs = np.nonzero(canvas.any(-1))
    assert set(ys) <= {99, 100, 101} and xs.min() == 99 and xs.max() == 141
    assert tuple(canvas[100, 120]) == (255, 0, 0)  # edge 0 colour
    assert tuple(canvas[100, 100]) == (0, 0, 255)  # blue keypoint dot on top
    # the reference's interleaved indexing would have drawn nothing for this pose (hands[2]
    # = person 0's right hand); with a single person the result is the same as the reference
    one = {k: v[1:] for k, v in kw.items()}
    np.testing.assert_array_equal(draw_overlay(Pose2D(**one), SIZE), canvas)


def test_visibility_rule_and_uint8_wrap() -> None:
    kw = _pose(2)
    for p in (0, 1):  # both persons: a face point (brow 17) at the same pixel
        kw["face_norm"][p, 17] = (300.5 / 896, 200.5 / 512)
        kw["face_scores"][p, 17] = 1.0
    kw["face_norm"][0, 18] = (0.5 / 896, 200.5 / 512)  # int(x·W) = 0 → never drawn
    kw["face_norm"][0, 30] = (400.5 / 896, 200.5 / 512)  # nose point: not drawn
    canvas = draw_overlay(Pose2D(**kw), SIZE)
    assert tuple(canvas[200, 300]) == (254, 254, 254)  # 255 + 255 wraps in uint8
    assert not canvas[:, :5].any() and not canvas[200, 395:405].any()


def test_cheek_scaled_and_points_full_intensity() -> None:
    kw = _pose(1)
    kw["body_norm"][0, 0] = (448.5 / 896, 256.5 / 512)  # nose
    kw["body_norm"][0, 14] = (430.5 / 896, 250.5 / 512)  # right eye
    kw["body_scores"][0, [0, 14]] = 1.0
    canvas = draw_overlay(Pose2D(**kw), SIZE)
    assert tuple(canvas[256, 448]) == (255, 0, 0)  # nose dot
    assert tuple(canvas[250, 430]) == (170, 0, 255)  # right-eye dot
    colours = {tuple(c) for c in canvas.reshape(-1, 3)}
    assert (51, 0, 153) in colours  # the nose→eye ellipse at 0.6 intensity


def test_composite_is_per_channel_and_keeps_alpha() -> None:
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (10, 20, 30, 204)
    ov = np.zeros((2, 2, 3), np.uint8)
    ov[0, 0] = (0, 0, 255)
    ov[1, 1] = (255, 255, 255)
    composite_overlay(rgba, ov)
    assert tuple(rgba[0, 0]) == (10, 20, 255, 204)
    assert tuple(rgba[1, 1]) == (255, 255, 255, 0)
