"""The procedural demo motion: a plausible, rigid, visible SMPL-24 body that moves."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core.demo_motion import bone_lengths_mm, demo_motion
from scail_pose_core.errors import InputError
from scail_pose_core.skeletons import smpl


def _joints(seq) -> np.ndarray:
    return np.stack([f.pose3d.joints_mm for f in seq.frames]).astype(np.float64)  # (T, P, 24, 3)


@pytest.mark.parametrize("style", ["dance", "walk"])
def test_bone_lengths_are_constant_and_plausible(style: str) -> None:
    seq = demo_motion(48, style=style)
    bones = bone_lengths_mm(_joints(seq)[:, 0])  # (T, 23)
    assert np.ptp(bones, axis=0).max() < 1e-2  # rigid bones: forward kinematics
    names = smpl.JOINT_NAMES
    length = dict(zip(names[1:], bones[0], strict=True))
    assert 350 < length["l_knee"] < 480 and 350 < length["r_ankle"] < 480  # thigh, shin
    assert 220 < length["l_elbow"] < 320 and 200 < length["r_wrist"] < 300  # upper, fore-arm
    # standing height (head to ankle) of an adult
    j = _joints(seq)[0, 0]
    assert 1300 < j[smpl.L_ANKLE, 1] - j[smpl.HEAD, 1] < 1800


@pytest.mark.parametrize(
    "size_hw, people", [((512, 896), 1), ((896, 512), 1), ((512, 896), 2), ((896, 512), 2)]
)
def test_whole_body_stays_in_front_of_and_inside_the_camera(size_hw, people) -> None:
    seq = demo_motion(40, size_hw=size_hw, people=people)
    assert seq.size_hw == size_hw and len(seq) == 40
    j = _joints(seq)
    assert j.shape == (40, people, 24, 3)
    assert (j[..., 2] > 1000).all()
    uv = seq.camera.project(j)
    h, w = size_hw
    assert (uv[..., 0] >= 0).all() and (uv[..., 0] < w).all()
    assert (uv[..., 1] >= 0).all() and (uv[..., 1] < h).all()
    for f in seq.frames:
        assert f.pose3d.present.all() and f.pose3d.track_ids.tolist() == list(range(people))


def test_it_moves_and_two_dancers_do_not_overlap() -> None:
    seq = demo_motion(24, people=2)
    j = _joints(seq)
    wrist_path = np.linalg.norm(np.diff(j[:, 0, smpl.L_WRIST], axis=0), axis=-1).sum()
    assert wrist_path > 500  # mm travelled by a waving hand in 1.5 s
    assert (j[:, 0, 0, 0] < j[:, 1, 0, 0] - 600).all()  # pelvis of dancer 0 left of dancer 1


def test_2d_layer_matches_the_projection() -> None:
    seq = demo_motion(4)
    f = seq.frames[0]
    h, w = seq.size_hw
    p2 = f.pose2d
    assert p2.num_people == 1
    # body slot 1 (neck) is the projected SMPL neck, normalised
    neck = seq.camera.project(f.pose3d.joints_mm[0, smpl.NECK].astype(np.float64)) / (w, h)
    np.testing.assert_allclose(p2.body_norm[0, 1], neck, atol=1e-9)
    vis_face = (p2.face_norm[0] >= 0).all(axis=1)
    assert vis_face[36:68].all() and not vis_face[:17].any()  # eyes+mouth drawn, jaw not
    assert ((p2.lhand_norm[0] > 0) & (p2.lhand_norm[0] < 1)).all()
    no2d = demo_motion(2, with_2d=False)
    assert no2d.frames[0].pose2d is None


@pytest.mark.parametrize("kwargs", [{"num_frames": 0}, {"people": 3}, {"style": "jump"}])
def test_bad_arguments(kwargs) -> None:
    with pytest.raises(InputError):
        demo_motion(**kwargs)
