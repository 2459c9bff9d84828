"""Character choice and SAM prompts: N largest, explicit indices, later entries, own keypoints."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core.errors import InputError
from scail_pose_core.segment import CharacterPrompt, SegmentOptions, choose_characters
from scail_pose_core.types import Detections, Pose2D, PoseFrame

H, W = 100, 200


def _pose(centers: list[tuple[float, float]], hide_eye: int | None = None) -> Pose2D:
    p = len(centers)
    body = np.zeros((p, 24, 2))
    scores = np.full((p, 24), 0.9, np.float32)
    for i, (cx, cy) in enumerate(centers):
        body[i] = np.array([cx / W, cy / H]) + np.linspace(0, 0.01 * (i + 1), 24)[:, None]
    if hide_eye is not None:
        scores[hide_eye, 14] = 0.1
    z2 = np.zeros((p, 68, 2)) - 1
    z1 = np.zeros((p, 68), np.float32)
    h2 = np.zeros((p, 21, 2)) - 1
    h1 = np.zeros((p, 21), np.float32)
    return Pose2D(body, scores, z2, z1, h2, h1, h2.copy(), h1.copy())


def _frame(boxes: list[list[float]], **kw) -> PoseFrame:
    centers = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in boxes]
    det = Detections(
        np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32)
    )
    return PoseFrame(detections=det, pose2d=_pose(centers, **kw) if boxes else Pose2D.empty())


def test_largest_boxes_with_their_own_head_keypoints():
    # detector order: small, large, medium  → characters: large (row 1), medium (row 2)
    f = _frame([[0, 0, 20, 20], [50, 10, 110, 90], [120, 20, 160, 80]], hide_eye=1)
    prompts = choose_characters([PoseFrame(), f], (H, W), num_characters=2)
    assert [p.character_id for p in prompts] == [0, 1]
    assert [p.frame_index for p in prompts] == [1, 1]  # first frame with someone
    assert prompts[0].box_xyxy.tolist() == [50, 10, 110, 90]
    assert prompts[1].box_xyxy.tolist() == [120, 20, 160, 80]
    # the reference would take row 0 / row 1 (loop index); each prompt uses its own row
    pose = f.pose2d
    want0 = pose.body_norm[1, [0, 1, 15]] * [W, H]  # right eye (14) hidden for row 1
    want1 = pose.body_norm[2, [0, 1, 14, 15]] * [W, H]
    np.testing.assert_allclose(prompts[0].points_xy, want0, rtol=1e-6)
    np.testing.assert_allclose(prompts[1].points_xy, want1, rtol=1e-6)
    assert prompts[0].labels.tolist() == [1, 1, 1]
    # every head point lies in its own box
    for p in prompts:
        x1, y1, x2, y2 = p.box_xyxy
        assert ((p.points_xy[:, 0] >= x1) & (p.points_xy[:, 0] <= x2)).all()
        assert ((p.points_xy[:, 1] >= y1) & (p.points_xy[:, 1] <= y2)).all()


def test_any_n_explicit_indices_and_later_entries():
    f0 = _frame([[0, 0, 20, 20], [50, 10, 110, 90], [120, 20, 160, 80]])
    f3 = _frame([[10, 10, 30, 60], [150, 0, 199, 99]])
    frames = [f0, PoseFrame(), PoseFrame(), f3]
    three = choose_characters(frames, (H, W), num_characters=5)
    assert len(three) == 3  # fewer people than asked: all of them, largest first
    assert three[2].box_xyxy.tolist() == [0, 0, 20, 20]
    chosen = choose_characters(frames, (H, W), indices=[2, 0], additions=[(3, 1)])
    assert [p.box_xyxy.tolist() for p in chosen] == [
        [120, 20, 160, 80], [0, 0, 20, 20], [150, 0, 199, 99],
    ]  # fmt: skip
    assert [(p.character_id, p.frame_index) for p in chosen] == [(0, 0), (1, 0), (2, 3)]
    # a single PoseFrame is accepted (frame 0)
    assert choose_characters(f0, (H, W), 1)[0].box_xyxy.tolist() == [50, 10, 110, 90]


def test_boxes_from_keypoints_when_detections_do_not_match():
    f = _frame([[50, 10, 110, 90], [120, 20, 160, 80]])
    no_det = PoseFrame(pose2d=f.pose2d)
    p = choose_characters(no_det, (H, W), 1)[0]
    body = f.pose2d.body_norm[1] * [W, H]  # row 1 has the larger keypoint spread
    assert p.box_xyxy[0] < body[:, 0].min() and p.box_xyxy[2] > body[:, 0].max()
    assert p.box_xyxy[1] < body[:, 1].min() and p.box_xyxy[3] > body[:, 1].max()


def test_bad_choices():
    f = _frame([[50, 10, 110, 90]])
    with pytest.raises(InputError, match="no person was detected in any of the 2 frames"):
        choose_characters([PoseFrame(), _frame([])], (H, W))
    with pytest.raises(InputError, match="person index 3 is out of range"):
        choose_characters(f, (H, W), indices=[3])
    with pytest.raises(InputError, match="duplicate"):
        choose_characters(f, (H, W), indices=[0, 0])
    with pytest.raises(InputError, match="empty"):
        choose_characters(f, (H, W), indices=[])
    with pytest.raises(InputError, match="num_characters"):
        choose_characters(f, (H, W), num_characters=0)
    with pytest.raises(InputError, match="frame 5"):
        choose_characters([f], (H, W), additions=[(5, 0)])
    with pytest.raises(InputError, match="max_characters"):
        SegmentOptions(max_characters=0)
    with pytest.raises(InputError, match="box, points or a mask"):
        CharacterPrompt(0, 0)
    with pytest.raises(InputError, match="labels"):
        CharacterPrompt(0, 0, points_xy=[[1, 2]], labels=[])
