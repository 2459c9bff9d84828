"""Fidelity against the reference renderer's golden frames (../shared/golden, README levels 1–3)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from render_golden_util import (
    GOLDEN_CASES,
    camera_of,
    golden_capsules,
    golden_depth,
    load_json,
    metrics,
    passes_defaults,
    read_rgba,
    write_rgba,
)
from support_paths import shared_path

from scail_pose_core.render import RenderOptions, render_capsule_frames
from scail_pose_core.render.depth import depth_constants
from scail_pose_core.render.scene import FrameCapsules, person_capsules
from scail_pose_core.render.style import character_render_colors

SINGLE = character_render_colors(0, "single")


def _our_capsules(frame: dict) -> FrameCapsules:
    parts = []
    for slot, person in enumerate(frame["persons"]):
        s, e, c, lim = person_capsules(np.asarray(person["smpl24"], np.float32), SINGLE)
        parts.append((s, e, c, lim, np.full(len(lim), slot, np.int32)))
    return FrameCapsules(*(np.concatenate([p[k] for p in parts]) for k in range(5)))


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_capsule_lists_equal_golden(case: str) -> None:
    """Level 1: SMPL-24 → OpenPose-18 → capsules equals the reference list exactly."""
    d = load_json(shared_path("golden", case, "input.json"))
    for frame in d["frames"]:
        ours = _our_capsules(frame)
        ref = golden_capsules(frame)
        assert len(ours) == len(ref) == len(frame["capsules"]), frame["index"]
        np.testing.assert_array_equal(ours.starts, ref.starts)
        np.testing.assert_array_equal(ours.ends, ref.ends)
        np.testing.assert_array_equal(ours.rgba, ref.rgba)
        np.testing.assert_array_equal(ours.limbs, ref.limbs)
        np.testing.assert_array_equal(ours.persons, ref.persons)
        for person in frame["persons"]:  # the OpenPose-18 mapping itself
            from scail_pose_core.skeletons.smpl import smpl24_to_openpose18

            op18 = smpl24_to_openpose18(np.asarray(person["smpl24"], np.float32))
            np.testing.assert_array_equal(op18, np.asarray(person["openpose18"], np.float32))


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_depth_constants_equal_golden(case: str) -> None:
    """Level 2: constants over all frames of the video (motion file or whole synthetic case)."""
    d = load_json(shared_path("golden", case, "input.json"))
    if d["motion_file"]:
        motion = load_json(shared_path("motion", d["motion_file"]))
        assert len(motion["frames"]) == d["video_frame_count"]
        frames = []
        for persons in motion["frames"]:
            parts = [person_capsules(np.asarray(p, np.float32), SINGLE) for p in persons]
            frames.append(
                FrameCapsules(
                    *(np.concatenate([p[k] for p in parts]) for k in range(4)),
                    np.zeros(sum(len(p[3]) for p in parts), np.int32),
                )  # fmt: skip
            )
    else:
        assert len(d["frames"]) == d["video_frame_count"]
        frames = [_our_capsules(f) for f in d["frames"]]
    ours = depth_constants(frames)
    ref = golden_depth(d)
    assert ours is not None
    for name in ("z_min", "z_max", "zfar", "depth_near", "depth_far"):
        assert getattr(ours, name) == getattr(ref, name), name
    assert ours.znear == ref.znear == 0.1


def test_golden_frames_pass_compare_py(tmp_path) -> None:
    """Level 3: every golden case rendered by the torch backend passes compare.py defaults."""
    golden_root = shared_path("golden")
    opts = RenderOptions(backend="torch", device="cpu")
    worst = {}
    for case in GOLDEN_CASES:
        d = load_json(golden_root / case / "input.json")
        frames = [golden_capsules(f) for f in d["frames"]]
        rgba = render_capsule_frames(frames, camera_of(d), golden_depth(d), opts)
        for f, img in zip(d["frames"], rgba, strict=True):
            write_rgba(tmp_path / case / f["png"], img)
            m = metrics(read_rgba(golden_root / case / f["png"]), img)
            assert passes_defaults(m), (case, f["png"], m)
            # coverage matches nearly pixel for pixel; colours pass the strict mode too
            assert m["iou"] >= 0.999 and m["fg_mean"] <= 0.3, (case, f["png"], m)
            assert m["within_fg"] >= 0.98, (case, f["png"], m)
            worst[case] = min(worst.get(case, 1.0), m["within_all"])
    proc = subprocess.run(
        [sys.executable, str(golden_root / "compare.py"), str(tmp_path), "-q",
         "--min-within-fg", "0.95"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout


def test_wrong_radius_fails_compare(tmp_path) -> None:
    """The check has teeth: a 20 mm radius fails the golden thresholds."""
    golden_root = shared_path("golden")
    d = load_json(golden_root / "dwpose_demo" / "input.json")
    frames = [golden_capsules(f) for f in d["frames"][:2]]
    from scail_pose_core.render.backend_torch import render_chunk_torch

    rgba = render_chunk_torch(frames, camera_of(d), golden_depth(d), "cpu", radius=20.0).numpy()
    ms = [metrics(read_rgba(golden_root / "dwpose_demo" / f["png"]), im)
          for f, im in zip(d["frames"][:2], rgba, strict=True)]  # fmt: skip
    assert not any(passes_defaults(m) for m in ms)
