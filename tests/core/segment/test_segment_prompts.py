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


class _FakeSegmenter:
    """``Sam2Segmenter.track``'s interface: character c's mask is its prompt box, from its
    prompt frame on."""

    def track(self, frames, prompts, chunk_size=32, offload_state_to_cpu=False, progress=None,
              check_cancel=None):  # fmt: skip
        n = len(frames)
        h, w = frames.shape[1:3]
        order = sorted(prompts, key=lambda p: p.character_id)
        for s in range(0, n, chunk_size):
            e = min(n, s + chunk_size)
            out = np.zeros((e - s, len(prompts), h, w), bool)
            for c, p in enumerate(order):
                x1, y1, x2, y2 = (int(v) for v in p.box_xyxy)
                out[max(0, p.frame_index - s) : e - s, c, y1:y2, x1:x2] = True
            yield s, out


def test_segment_characters_writes_into_a_memmap(tmp_path):
    from scail_pose_core.segment import segment_characters

    frames = np.zeros((5, H, W, 3), np.uint8)
    f0 = _frame([[0, 0, 20, 20], [50, 10, 110, 90]])
    f3 = _frame([[150, 0, 199, 99]])
    poses = [f0, f0, f0, f3, f3]
    out = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=bool, shape=(5, 3, H, W))
    opts = SegmentOptions(max_characters=2, chunk_size=2, additions=((3, 0),))
    cm = segment_characters(frames, poses, _FakeSegmenter(), opts, out=out)
    assert isinstance(cm.masks, np.ndarray) and np.shares_memory(cm.masks, out)
    assert cm.character_ids.tolist() == [0, 1, 2]
    assert cm.present().tolist() == [[True, True, False]] * 3 + [[True, True, True]] * 2
    assert cm.masks[0, 0, 10:90, 50:110].all() and not cm.masks[0, 0, :, :50].any()
    with pytest.raises(InputError, match="'out' must be a bool array of shape"):
        segment_characters(frames, poses, _FakeSegmenter(), opts, out=np.zeros((5, 2, H, W), bool))
