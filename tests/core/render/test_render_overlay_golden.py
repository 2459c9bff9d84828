"""2D overlay fidelity against ../shared/golden_overlay (exact canvases, composited frames)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from render_golden_util import (
    OVERLAY_CASES,
    camera_of,
    golden_capsules,
    golden_depth,
    load_json,
    read_rgba,
    write_rgba,
)
from support_paths import shared_path

from scail_pose_core import Camera, Pose3D, PoseFrame, PoseSequence
from scail_pose_core.formats import pose2d_from_reference_dict
from scail_pose_core.render import RenderOptions, render_capsule_frames, render_rgba
from scail_pose_core.render.draw2d import composite_overlay, draw_overlay


def _overlay_region_share(golden: np.ndarray, cand: np.ndarray, overlay: np.ndarray) -> float:
    region = (overlay > 0).any(-1)
    close = (np.abs(golden.astype(int) - cand.astype(int)) <= 8).all(-1)
    return float(close[region].mean())


@pytest.mark.parametrize("case", OVERLAY_CASES)
def test_overlay_canvas_is_exact(case: str) -> None:
    root = shared_path("golden_overlay", case)
    p2d = load_json(root / "pose2d.json")
    size = tuple(p2d["size_hw"])
    for key, drawn in p2d["drawn"].items():
        ours = draw_overlay(pose2d_from_reference_dict(drawn), size)
        ref = read_rgba(root / f"overlay_{int(key):04d}.png")[..., :3]
        assert (ref > 0).any()
        np.testing.assert_array_equal(ours, ref, err_msg=f"{case} frame {key}")


@pytest.mark.parametrize("case", OVERLAY_CASES)
def test_composited_frames(case: str, tmp_path) -> None:
    root = shared_path("golden_overlay", case)
    d = load_json(root / "input.json")
    p2d = load_json(root / "pose2d.json")
    size = tuple(d["size_hw"])
    rgba = render_capsule_frames(
        [golden_capsules(f) for f in d["frames"]], camera_of(d), golden_depth(d),
        RenderOptions(backend="torch", device="cpu"),
    )  # fmt: skip
    for f, img in zip(d["frames"], rgba, strict=True):
        overlay = draw_overlay(pose2d_from_reference_dict(p2d["drawn"][str(f["index"])]), size)
        composite_overlay(img, overlay)
        golden = read_rgba(root / f["png"])
        assert _overlay_region_share(golden, img, overlay) >= 0.999, f["png"]
        nz = overlay != 0  # replaced channels are exactly the overlay's
        np.testing.assert_array_equal(img[..., :3][nz], golden[..., :3][nz])
        np.testing.assert_array_equal(img[..., 3], np.where(img[..., 3] > 0, 204, 0))
        write_rgba(tmp_path / f["png"], img)
    proc = subprocess.run(
        [sys.executable, str(shared_path("golden", "compare.py")), str(tmp_path),
         "--golden", str(root.parent), "--case", case, "--ignore-alpha", "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_end_to_end_sequence_matches_overlay_golden() -> None:
    """render_rgba on the whole 65-frame motion (depth constants from all frames), with 2D
    poses on the stored frames and K_render as the camera, reproduces the golden frames."""
    root = shared_path("golden_overlay", "scail_001_align")
    d = load_json(root / "input.json")
    p2d = load_json(root / "pose2d.json")
    motion = load_json(shared_path("motion", d["motion_file"]))
    size = tuple(d["size_hw"])
    frames = []
    for i, persons in enumerate(motion["frames"]):
        drawn = p2d["drawn"].get(str(i))
        frames.append(PoseFrame(
            pose3d=Pose3D(np.asarray(persons, np.float32)),
            pose2d=pose2d_from_reference_dict(drawn) if drawn else None,
        ))  # fmt: skip
    cam = Camera.from_matrix(np.asarray(d["intrinsics"]), size)
    seq = PoseSequence(tuple(frames), size, 16.0, camera=cam)
    out = render_rgba(seq, RenderOptions(backend="torch", device="cpu", chunk_size=32))
    assert out.shape == (65, *size, 4)
    for f in d["frames"]:
        golden = read_rgba(root / f["png"])
        overlay = read_rgba(root / f["overlay_png"])[..., :3]
        img = out[f["index"]]
        assert _overlay_region_share(golden, img, overlay) >= 0.999
        cov = (img[..., :3] > 0).any(-1) | (golden[..., :3] > 0).any(-1)
        close = (np.abs(golden.astype(int) - img.astype(int)) <= 8).all(-1)
        assert close[cov].mean() >= 0.99
