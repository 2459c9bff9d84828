"""extract_characters / masks_from_external with synthetic crossing characters (planted answers)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from segment_scene import crossing_characters, make_scene, planted_lift

from scail_pose_core.errors import InputError
from scail_pose_core.segment import (
    BACKGROUND_RGB,
    CharacterMasks,
    ExtractOptions,
    extract_characters,
    masks_from_external,
)
from scail_pose_core.skeletons import openpose as op


def _run(scene, masks=None, **kw):
    masks = masks if masks is not None else masks_from_external(scene.masks, scene.size_hw)
    lift = planted_lift(scene.characters, scene.size_hw)
    return extract_characters(scene.frames, masks, scene.poses, lift_fn=lift, **kw)


@pytest.mark.parametrize("n", [2, 3])
def test_crossing_characters_keep_ids_depths_and_hands(n):
    scene = make_scene(crossing_characters(n), num_frames=24)
    # the detector order really changes and someone is fully hidden at some point
    assert any(rows.get(0, 0) != 0 for rows in scene.truth_rows)
    hidden = [(t, k) for t in range(24) for k in range(n) if not scene.masks[t, k].any()]
    assert hidden, "the scene must contain a full occlusion"
    seq = _run(scene)
    assert len(seq) == 24 and seq.size_hw == scene.size_hw
    assert seq.meta["characters"]["ids"] == list(range(n))
    for t, f in enumerate(seq.frames):
        assert f.pose3d.track_ids.tolist() == list(range(n))
        assert f.pose2d.track_ids.tolist() == list(range(n))
        for k, ch in enumerate(scene.characters):
            visible = scene.masks[t, k].sum() >= 16
            assert bool(f.pose3d.present[k]) == visible, (t, k)
            if visible:  # the character's own depth: ids never swap
                assert f.pose3d.joints_mm[k, 0, 2] == ch.depth_mm
            else:
                assert not f.pose3d.joints_mm[k].any()
            row = scene.truth_rows[t].get(k)
            src = scene.poses[t].pose2d
            parts = ("body_scores", "face_scores", "lhand_scores", "rhand_scores")
            if row is not None and not any(
                (getattr(src, a)[row] > op.SCORE_THRESHOLD).any() for a in parts
            ):
                row = None  # a "person" with no visible keypoint cannot be placed
            if row is None:
                assert not (f.pose2d.body_scores[k] > 0).any()
                continue
            # the right 2D person (hands, face, body) went to the right character
            for name in ("body_norm", "lhand_norm", "rhand_norm", "face_norm"):
                assert np.array_equal(getattr(f.pose2d, name)[k], getattr(src, name)[row]), (
                    t,
                    k,
                    name,
                )
            if visible:
                box = f.detections.boxes_xyxy[k]
                ys, xs = np.nonzero(scene.masks[t, k])
                assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]


def test_masked_frames_are_exact_and_in_memory():
    scene = make_scene(crossing_characters(2), num_frames=6)
    calls: list[np.ndarray] = []
    masks = masks_from_external(scene.masks, scene.size_hw)
    extract_characters(
        scene.frames,
        masks,
        scene.poses,
        lift_fn=planted_lift(scene.characters, scene.size_hw, calls),
        options=ExtractOptions(chunk_size=4),
    )
    jobs = [(t, k) for t in range(6) for k in range(2) if scene.masks[t, k].sum() >= 16]
    assert len(calls) == len(jobs)  # frame-major, character-minor, empty masks skipped
    for img, (t, k) in zip(calls, jobs, strict=True):
        m = scene.masks[t, k]
        assert np.array_equal(img[m], scene.frames[t][m])  # bit-exact: no lossy re-encode
        assert (img[~m] == np.array(BACKGROUND_RGB, np.uint8)).all()


def test_relabel_recovers_identities_from_shuffled_instances(rng):
    for n in (2, 3):
        scene = make_scene(crossing_characters(n), num_frames=24)
        t_n = scene.masks.shape[0]
        perm = np.stack([rng.permutation(n) for _ in range(t_n)])
        shuffled = np.stack([scene.masks[t, perm[t]] for t in range(t_n)])
        cm = masks_from_external(shuffled, scene.size_hw, t_n, relabel=True)
        assert cm.num_characters == n
        for c in range(n):  # each output column is one true character in every frame
            owners = {
                int(perm[t][np.flatnonzero([np.array_equal(cm.masks[t, c], shuffled[t, j])
                                            for j in range(n)])[0]])
                for t in range(t_n)
                if cm.masks[t, c].any()
            }  # fmt: skip
            assert len(owners) == 1, (n, c, owners)


def test_foreign_hand_is_dropped():
    scene = make_scene(crossing_characters(2), num_frames=1)
    pose = scene.poses[0].pose2d
    row0 = scene.truth_rows[0][0]
    # move character 0's left hand into character 1's rectangle (a DWPose hand mix-up)
    r1 = scene.rects[0, 1]
    h, w = scene.size_hw
    lh = pose.lhand_norm.copy()
    lh[row0] = np.array([(r1[0] + r1[2]) / 2 / w, (r1[1] + r1[3]) / 2 / h])
    pose = type(pose)(
        pose.body_norm, pose.body_scores, pose.face_norm, pose.face_scores, lh,
        np.full_like(pose.lhand_scores, 0.9), pose.rhand_norm, pose.rhand_scores,
    )  # fmt: skip
    from dataclasses import replace

    scene.poses[0] = replace(scene.poses[0], pose2d=pose)
    seq = _run(scene)
    f = seq.frames[0]
    assert (f.pose2d.lhand_norm[0] == op.INVISIBLE).all()
    assert not (f.pose2d.lhand_scores[0] > 0).any()
    assert np.array_equal(f.pose2d.rhand_norm[0], pose.rhand_norm[row0])
    keep = ExtractOptions(drop_foreign_hands=False)
    assert np.array_equal(_run(scene, options=keep).frames[0].pose2d.lhand_norm[0], lh[row0])


def test_character_with_empty_mask_everywhere_is_absent(caplog):
    scene = make_scene(crossing_characters(2), num_frames=4)
    m = np.concatenate([scene.masks, np.zeros_like(scene.masks[:, :1])], axis=1)
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        cm = masks_from_external(m, scene.size_hw, 4)
        seq = _run(scene, masks=cm)
    assert "character 2" in caplog.text
    for f in seq.frames:
        assert f.pose3d.track_ids.tolist() == [0, 1, 2]
        assert not f.pose3d.present[2] and not f.pose3d.joints_mm[2].any()
        assert not (f.pose2d.body_scores[2] > 0).any() and f.detections.scores[2] == 0
    assert seq.meta["characters"]["frames_present"][2] == 0


def test_external_mask_formats_and_bad_input():
    scene = make_scene(crossing_characters(2), num_frames=3)
    t, c, h, w = scene.masks.shape
    labels = scene.masks[:, 0] * 1 + scene.masks[:, 1] * 2
    a = masks_from_external(labels.astype(np.int32), (h, w), t)
    b = masks_from_external([scene.masks[:, 0], scene.masks[:, 1].astype(np.float32)], (h, w), t)
    for cm in (a, b):
        assert cm.masks.shape == (t, 2, h, w) and cm.masks.dtype == bool
        assert np.array_equal(cm.masks, scene.masks) and cm.character_ids.tolist() == [0, 1]
    one = masks_from_external(scene.masks[:, 1], (h, w), t)
    assert one.num_characters == 1 and np.array_equal(one.masks[:, 0], scene.masks[:, 1])
    # explicit ids come back sorted with their columns
    cm = masks_from_external(scene.masks, character_ids=[5, 2])
    assert cm.character_ids.tolist() == [2, 5] and np.array_equal(cm.masks[:, 0], scene.masks[:, 1])

    with pytest.raises(InputError, match="32x40.*96x160"):
        masks_from_external(np.zeros((t, 2, 32, 40), bool), (h, w), t)
    with pytest.raises(InputError, match="5 mask frames but the video has 3"):
        masks_from_external(np.zeros((5, 2, h, w), bool), (h, w), t)
    with pytest.raises(InputError, match="zero characters"):
        masks_from_external(np.zeros((t, 0, h, w), bool))
    with pytest.raises(InputError, match="empty list"):
        masks_from_external([])
    with pytest.raises(InputError, match="character 1 mask"):
        masks_from_external([scene.masks[:, 0], scene.masks[:2, 1]])
    with pytest.raises(InputError, match="expected"):
        masks_from_external(np.zeros((h, w), bool))
    with pytest.raises(InputError, match="zero characters"):
        CharacterMasks(np.zeros((t, 0, h, w), bool), np.zeros((0,), np.int32))

    cm = masks_from_external(scene.masks)
    lift = planted_lift(scene.characters, scene.size_hw)
    with pytest.raises(InputError, match="masks are 96x160.*frames are 48x80"):
        extract_characters(scene.frames[:, :48, :80], cm, scene.poses, lift_fn=lift)
    with pytest.raises(InputError, match="2 frames but masks cover 3"):
        extract_characters(scene.frames[:2], cm, scene.poses[:2], lift_fn=lift)
    with pytest.raises(InputError, match="2 pose frames for 3 video frames"):
        extract_characters(scene.frames, cm, scene.poses[:2], lift_fn=lift)
    with pytest.raises(InputError, match="NLF model"):
        extract_characters(scene.frames, cm, scene.poses)


def test_no_2d_poses_and_progress_cancel():
    scene = make_scene(crossing_characters(2), num_frames=5)
    cm = masks_from_external(scene.masks)
    seen = []
    seq = extract_characters(
        scene.frames, cm, None, lift_fn=planted_lift(scene.characters, scene.size_hw),
        options=ExtractOptions(chunk_size=2), progress=lambda d, t: seen.append((d, t)),
    )  # fmt: skip
    assert seen[-1] == (5, 5) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert all(
        f.pose2d.num_people == 2 and not (f.pose2d.body_scores > 0).any() for f in seq.frames
    )

    class Stop(Exception):
        pass

    def cancel():
        raise Stop

    with pytest.raises(Stop):
        extract_characters(
            scene.frames, cm, None, lift_fn=planted_lift(scene.characters, scene.size_hw),
            check_cancel=cancel,
        )  # fmt: skip


def test_default_lift_path_with_nlf_standin(tmp_path):
    standin = pytest.importorskip("standin_nlf")
    pytest.importorskip("scail_pose_core.lift3d.nlf")
    from scail_pose_core.lift3d.nlf import load_nlf
    from scail_pose_core.types import Camera

    model = load_nlf(standin.build_nlf_standin(tmp_path / "nlf.pt"), device="cpu")
    scene = make_scene(crossing_characters(2), num_frames=4)
    cm = masks_from_external(scene.masks)
    # the stand-in "detects" non-black column runs: use a black background
    seq = extract_characters(
        scene.frames, cm, scene.poses, model, ExtractOptions(background_rgb=(0, 0, 0))
    )
    cam = Camera.from_fov(scene.size_hw)
    for t, f in enumerate(seq.frames):
        for k in range(2):
            m = scene.masks[t, k]
            assert bool(f.pose3d.present[k]) == bool(m.sum() >= 16)
            if not f.pose3d.present[k]:
                continue
            ys, xs = np.nonzero(m)
            centre = np.array([(xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2])
            # the planted pelvis projects to the centre of this character's own region
            assert np.allclose(cam.project(f.pose3d.joints_mm[k, 0]), centre, atol=0.6)
