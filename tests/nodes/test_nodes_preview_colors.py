"""The 3D preview's bone colours are the render's: same palette function, same identities."""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module

import numpy as np
import pytest


def _core(scail, name):
    return import_module(f"{scail[0].__name__}.scail_pose_core.{name}")


def _three_characters(scail, ids=(5, 0, 2)):
    """demo motion with 3 people whose track ids are ``ids`` (not in slot order)."""
    types = _core(scail, "types")
    demo = _core(scail, "demo_motion").demo_motion(num_frames=4, size_hw=(256, 448), people=2)
    frames = []
    for f in demo.frames:
        j = f.pose3d.joints_mm
        third = j[:1] + np.array([600.0, 0.0, 400.0], np.float32)  # a copy, moved aside
        p3 = types.Pose3D(np.concatenate([j, third]), track_ids=np.asarray(ids, np.int32))
        frames.append(replace(f, pose3d=p3))
    return replace(demo, frames=tuple(frames))


@pytest.mark.parametrize("palette", ["auto", "single", "multi"])
def test_preview_colors_equal_the_render_capsule_colors(scail, node_classes, palette):
    scene = _core(scail, "render.scene")
    style = _core(scail, "render.style")
    seq = _three_characters(scail)
    out = node_classes["ScailPosePreview3D"].execute(poses=seq, max_frames=300, palette=palette)
    payload = out.ui["scail_pose_preview"][0]
    chars = {c["id"]: c for c in payload["characters"]}
    assert sorted(chars) == [0, 2, 5]
    pal = style.resolve_palette(palette, scene.max_people_3d(seq))
    assert payload["palette"] == pal
    caps = scene.frame_capsules(seq.frames[0].pose3d, pal)  # what the renderer draws
    assert len(caps.limbs) > 30
    for rgba, limb, slot in zip(caps.rgba, caps.limbs, caps.persons, strict=True):
        tid = int(seq.frames[0].pose3d.track_ids[slot])
        want = np.minimum(rgba[:3], 1.0)
        np.testing.assert_allclose(chars[tid]["colors"][limb], want, atol=1e-4)
    # rows point at the right character
    ids_in_frame = [payload["characters"][ci]["id"] for ci, _ in payload["frames"][0]]
    assert ids_in_frame == [5, 0, 2]
    if pal == "multi":  # the third character is not a copy of character 0's table
        assert chars[2]["colors"] != chars[0]["colors"]
