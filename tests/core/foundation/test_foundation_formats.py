"""Formats: POSE_KEYPOINT both ways, the versioned JSON/NPZ save format, the reference pose dict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scail_pose_core import (
    Camera,
    Detections,
    InputError,
    Pose2D,
    Pose3D,
    PoseFrame,
    PoseSequence,
)
from scail_pose_core.formats import (
    from_pose_keypoint,
    load_sequence,
    pose2d_from_reference_dict,
    pose2d_to_reference_dict,
    save_sequence,
    sequence_from_dict,
    sequence_to_dict,
    to_pose_keypoint,
)

H, W = 512, 896


def _random_pose2d(rng: np.random.Generator, p: int) -> Pose2D:
    """Realistic 2D poses: hidden face/hand points at −1 (score < 0.3), body never −1."""

    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        xy = rng.uniform(0.05, 0.95, (p, n, 2))
        s = rng.uniform(0, 1, (p, n)).astype(np.float32)
        xy[s < 0.3] = -1.0
        return xy, s

    face, fs = part(68)
    lh, ls = part(21)
    rh, rs = part(21)
    body = rng.uniform(0.05, 0.95, (p, 24, 2))
    bs = rng.uniform(0, 1, (p, 24)).astype(np.float32)
    return Pose2D(body, bs, face, fs, lh, ls, rh, rs, track_ids=np.arange(p) + 3)


def _sequence(rng: np.random.Generator) -> PoseSequence:
    frames = []
    for t in range(4):
        p = [2, 0, 1, 3][t]
        det = Detections(rng.uniform(0, 800, (p, 4)), rng.uniform(0, 1, p))
        j = rng.normal(0, 500, (p, 24, 3)).astype(np.float32)
        j[..., 2] += 4000
        if p:
            j[-1] = 0  # a missing person slot
        p3 = Pose3D(j, track_ids=np.arange(p))
        frames.append(PoseFrame(
            detections=det if t != 2 else None, pose2d=_random_pose2d(rng, p),
            pose3d=p3 if t != 3 else None,
        ))  # fmt: skip
    frames.append(PoseFrame())
    cam = Camera(fx=946.66, fy=899.327, cx=468.0, cy=226.0, size_hw=(H, W))
    meta = {"source": "clip.mp4", "retarget": {"m": np.float64(1.1), "k": np.eye(2)}, "ok": True}
    return PoseSequence(frames=tuple(frames), size_hw=(H, W), fps=15.5, camera=cam, meta=meta)


def _assert_same(a: PoseSequence, b: PoseSequence) -> None:
    assert (a.size_hw, a.fps, a.camera, len(a)) == (b.size_hw, b.fps, b.camera, len(b))
    for fa, fb in zip(a.frames, b.frames, strict=True):
        for name in ("detections", "pose2d", "pose3d"):
            oa, ob = getattr(fa, name), getattr(fb, name)
            assert (oa is None) == (ob is None), name
            if oa is None:
                continue
            for field in oa.__dataclass_fields__:
                xa, xb = getattr(oa, field), getattr(ob, field)
                assert xa.dtype == xb.dtype and xa.shape == xb.shape, (name, field)
                np.testing.assert_array_equal(xa, xb)  # bit-exact


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_round_trip_exact(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    seq = _sequence(rng)
    path = save_sequence(seq, tmp_path / f"poses{suffix}")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == [f"poses{suffix}"]
    back = load_sequence(path)
    _assert_same(seq, back)
    assert back.meta == {
        "source": "clip.mp4",
        "retarget": {"m": 1.1, "k": [[1.0, 0.0], [0.0, 1.0]]},
        "ok": True,
    }


def test_dict_round_trip_and_json_header(rng: np.random.Generator) -> None:
    seq = _sequence(rng)
    d = sequence_to_dict(seq)
    assert d["format"] == "scail_pose.sequence" and d["version"] == 1
    text = json.dumps(d)  # plain JSON types only
    _assert_same(seq, sequence_from_dict(json.loads(text)))


def test_save_format_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    seq = _sequence(rng)
    with pytest.raises(InputError, match=r"\.json or \.npz"):
        save_sequence(seq, tmp_path / "poses.txt")
    d = sequence_to_dict(seq)
    with pytest.raises(InputError, match="version 2 is not supported"):
        sequence_from_dict({**d, "version": 2})
    with pytest.raises(InputError, match="not a saved scail-pose sequence"):
        sequence_from_dict({"frames": []})
    bad = json.loads(json.dumps(d))
    bad["frames"][0]["pose2d"]["face_norm"] = [[[0, 0]] * 67] * 2
    with pytest.raises(
        InputError, match=r"Pose2D.face_norm: expected shape \(2, 68, 2\), got \(2, 67, 2\)"
    ):
        sequence_from_dict(bad)
    (tmp_path / "junk.npz").write_bytes(b"nope")
    with pytest.raises(InputError, match="junk.npz"):
        load_sequence(tmp_path / "junk.npz")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        load_sequence(tmp_path / "junk.json")
    with pytest.raises(InputError, match="does not exist"):
        load_sequence(tmp_path / "none.json")
    odd = PoseSequence(frames=(), size_hw=(H, W), meta={"x": object()})
    with pytest.raises(InputError, match="meta must hold JSON values"):
        save_sequence(odd, tmp_path / "odd.json")


# ---- POSE_KEYPOINT -------------------------------------------------------------------------


def _one_person() -> Pose2D:
    body = np.full((1, 24, 2), 0.5)
    bs = np.full((1, 24), 0.9, np.float32)
    body[0, 14], body[0, 15] = (0.45, 0.2), (0.55, 0.2)  # R eye, L eye
    bs[0, 3] = 0.1  # hidden R elbow
    body[0, 18] = (0.25, 0.75)  # L big toe
    face = np.full((1, 68, 2), 0.4)
    fs = np.full((1, 68), 0.8, np.float32)
    face[0, 5], fs[0, 5] = -1.0, 0.1
    lh = np.full((1, 21, 2), 0.3)
    rh = np.full((1, 21, 2), -1.0)
    ls = np.full((1, 21), 0.7, np.float32)
    rs = np.zeros((1, 21), np.float32)
    return Pose2D(body, bs, face, fs, lh, ls, rh, rs, track_ids=[4])


def test_to_pose_keypoint_layout() -> None:
    seq = PoseSequence(frames=(PoseFrame(pose2d=_one_person()), PoseFrame()), size_hw=(H, W))
    out = to_pose_keypoint(seq)
    assert len(out) == 2 and out[1] == {"people": [], "canvas_width": W, "canvas_height": H}
    assert (out[0]["canvas_width"], out[0]["canvas_height"]) == (W, H)
    person = out[0]["people"][0]
    assert person["person_id"] == [4]
    body = np.array(person["pose_keypoints_2d"]).reshape(-1, 3)
    assert body.shape == (18, 3)
    np.testing.assert_allclose(body[0], [0.5 * W, 0.5 * H, np.float32(0.9)])  # pixels, real score
    np.testing.assert_array_equal(body[3], [0, 0, 0])  # hidden → missing marker
    feet = np.array(person["foot_keypoints_2d"]).reshape(-1, 3)
    np.testing.assert_allclose(feet[0], [0.25 * W, 0.75 * H, np.float32(0.9)])
    face = np.array(person["face_keypoints_2d"]).reshape(-1, 3)
    assert face.shape == (70, 3)
    np.testing.assert_allclose(face[68], [0.45 * W, 0.2 * H, np.float32(0.9)])  # R eye
    np.testing.assert_allclose(face[69], [0.55 * W, 0.2 * H, np.float32(0.9)])  # L eye
    np.testing.assert_array_equal(face[5], [0, 0, 0])
    assert len(person["hand_left_keypoints_2d"]) == 63
    assert np.all(np.array(person["hand_right_keypoints_2d"]) == 0)
    json.dumps(out)  # JSON-serialisable


def test_pose_keypoint_round_trip(rng: np.random.Generator) -> None:
    pose = _random_pose2d(rng, 3)
    seq = PoseSequence(frames=(PoseFrame(pose2d=pose),), size_hw=(H, W), fps=12.0)
    back = from_pose_keypoint(to_pose_keypoint(seq), fps=12.0)
    assert back.size_hw == (H, W) and back.fps == 12.0
    q = back.frames[0].pose2d
    vis = pose.body_scores > 0.3
    np.testing.assert_allclose(q.body_norm[vis], pose.body_norm[vis], atol=1e-12)
    np.testing.assert_array_equal(q.body_scores[vis], pose.body_scores[vis])
    np.testing.assert_array_equal(q.body_subset, pose.body_subset)
    for name in ("face", "lhand", "rhand"):
        a, b = getattr(pose, f"{name}_norm"), getattr(q, f"{name}_norm")
        np.testing.assert_allclose(b, a, atol=1e-12)  # −1 stays −1
        sa, sb = getattr(pose, f"{name}_scores"), getattr(q, f"{name}_scores")
        shown = a[..., 0] != -1
        np.testing.assert_array_equal(sb[shown], sa[shown])
    assert q.track_ids.tolist() == [3, 4, 5]


def test_from_pose_keypoint_normalised_and_pixels_agree() -> None:
    triples = [0.25, 0.5, 1.0] * 18
    norm_frame = {
        "people": [{"pose_keypoints_2d": triples}],
        "canvas_width": 200,
        "canvas_height": 100,
    }
    pix_frame = {
        "people": [{"pose_keypoints_2d": [50.0, 50.0, 1.0] * 18}],
        "canvas_width": 200, "canvas_height": 100,
    }  # fmt: skip
    a = from_pose_keypoint([norm_frame]).frames[0].pose2d
    b = from_pose_keypoint([pix_frame]).frames[0].pose2d
    np.testing.assert_allclose(a.body_norm[0, :18], np.tile([0.25, 0.5], (18, 1)))
    np.testing.assert_allclose(b.body_norm, a.body_norm)
    # forcing pixels on normalised data divides by the canvas
    c = from_pose_keypoint([norm_frame], coords="pixels").frames[0].pose2d
    np.testing.assert_allclose(c.body_norm[0, 0], [0.25 / 200, 0.5 / 100])


def test_from_pose_keypoint_controlnet_aux_style() -> None:
    """cna style: confidence 1.0, 0,0,0 for missing, None for undetected parts, nested lists ok."""
    body = [[100.0, 50.0, 1.0]] * 18
    body[4] = [0.0, 0.0, 0.0]
    face = [[10.0, 20.0, 1.0]] * 70
    frame = {
        "people": [{
            "pose_keypoints_2d": body, "face_keypoints_2d": face,
            "hand_left_keypoints_2d": None, "hand_right_keypoints_2d": [],
        }],
        "canvas_width": 400, "canvas_height": 200,
    }  # fmt: skip
    seq = from_pose_keypoint(frame)
    p = seq.frames[0].pose2d
    assert seq.size_hw == (200, 400) and p.num_people == 1
    assert p.body_subset[0, 4] == -1 and p.body_subset[0, 0] == 0
    np.testing.assert_array_equal(p.body_norm[0, 4], [0, 0])
    assert np.all(p.body_subset[0, 18:] == -1)  # no feet given
    np.testing.assert_allclose(p.face_norm[0], np.tile([10 / 400, 20 / 200], (68, 1)))
    assert np.all(p.lhand_norm == -1) and np.all(p.rhand_norm == -1)
    assert np.all(p.lhand_scores == 0) and p.track_ids.tolist() == [-1]


def test_from_pose_keypoint_errors() -> None:
    with pytest.raises(InputError, match="canvas_width/canvas_height; pass size_hw"):
        from_pose_keypoint([{"people": []}])
    ok = from_pose_keypoint([{"people": []}], size_hw=(64, 32))
    assert ok.size_hw == (64, 32) and ok.frames[0].pose2d.num_people == 0
    with pytest.raises(
        InputError, match=r"POSE_KEYPOINT\[0\].people\[0\].pose_keypoints_2d: expected 18"
    ):
        from_pose_keypoint(
            [{"people": [{"pose_keypoints_2d": [1.0, 2.0, 1.0] * 25}]}], size_hw=(10, 10)
        )
    with pytest.raises(InputError, match="not a multiple of 3"):
        from_pose_keypoint([{"people": [{"pose_keypoints_2d": [1.0] * 20}]}], size_hw=(10, 10))
    with pytest.raises(InputError, match="expected a dict"):
        from_pose_keypoint(["frame"], size_hw=(10, 10))
    with pytest.raises(InputError, match="coords must be"):
        from_pose_keypoint([], size_hw=(10, 10), coords="mm")


# ---- reference pose dict (lead's module, tested here) --------------------------------------


def test_reference_dict_round_trip(rng: np.random.Generator) -> None:
    pose = _random_pose2d(rng, 2)
    d = pose2d_to_reference_dict(pose)
    assert d["hands"].shape == (4, 21, 2)
    np.testing.assert_array_equal(d["hands"][:2], pose.lhand_norm)  # all left hands first
    np.testing.assert_array_equal(d["hands"][2:], pose.rhand_norm)
    back = pose2d_from_reference_dict(d)
    for f in ("body_norm", "face_norm", "lhand_norm", "rhand_norm", "face_scores", "lhand_scores"):
        np.testing.assert_array_equal(getattr(back, f), getattr(pose, f))
    np.testing.assert_array_equal(back.body_subset, pose.body_subset)
    assert (
        pose2d_from_reference_dict(
            {"bodies": {"candidate": [], "subset": []}, "faces": [], "hands": []}
        ).num_people
        == 0
    )
    with pytest.raises(InputError, match="not a reference pose dict"):
        pose2d_from_reference_dict({"faces": []})
