"""Characters from extract_characters rendered together: the nearer one is in front."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from segment_scene import crossing_characters, make_scene, planted_lift

from scail_pose_core.segment import extract_characters, masks_from_external
from scail_pose_core.types import Pose3D

render = pytest.importorskip("scail_pose_core.render")


def test_nearer_character_is_in_front_and_missing_one_is_not_drawn():
    scene = make_scene(crossing_characters(2), num_frames=24)
    seq = extract_characters(
        scene.frames,
        masks_from_external(scene.masks, scene.size_hw),
        scene.poses,
        lift_fn=planted_lift(scene.characters, scene.size_hw),
    )
    # a frame where both are present and their skeletons overlap on screen
    both_present = [t for t, f in enumerate(seq.frames) if f.pose3d.present.all()]
    centre = [(scene.rects[t, :, 0] + scene.rects[t, :, 2]) / 2 for t in both_present]
    t = both_present[int(np.argmin([abs(c[0] - c[1]) for c in centre]))]
    p = seq.frames[t].pose3d
    assert p.joints_mm[0, 0, 2] < p.joints_mm[1, 0, 2]  # character 0 is nearer
    only = [Pose3D(p.joints_mm, p.present & (np.arange(2) == k), p.track_ids) for k in (0, 1)]
    frames = [replace(seq.frames[t], pose3d=q) for q in (p, *only)]
    # one sequence, so the video-global depth shading is the same for the three frames
    rgba = render.render_rgba(
        replace(seq, frames=tuple(frames)),
        render.RenderOptions(backend="torch", device="cpu", draw_2d=False, chunk_size=4),
    )
    both, near, far = (rgba[i, ..., :3].astype(int) for i in range(3))
    drawn_near = near.sum(-1) > 0
    drawn_far = far.sum(-1) > 0
    overlap = drawn_near & drawn_far
    assert overlap.sum() >= 8, "the test needs overlapping skeletons"
    # where both cover a pixel, the union render shows the nearer character
    assert np.abs(both[overlap] - near[overlap]).max() <= 1
    assert np.abs(both[overlap] - far[overlap]).max() > 30
    # elsewhere each character appears as alone, in its own palette (colours differ)
    assert np.abs(both[drawn_far & ~drawn_near] - far[drawn_far & ~drawn_near]).max() <= 1
    # a character missing in a frame is not drawn at all
    assert not (rgba[1][drawn_far & ~drawn_near, :3] > 0).any()
