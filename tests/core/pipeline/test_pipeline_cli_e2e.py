"""``python -m scail_pose_core extract`` / ``demo`` end to end with stand-in model files."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pipeline_helpers import cached_models_dir, make_image, write_figure_video
from support_paths import REPO_ROOT, shared_path

from scail_pose_core import cli
from scail_pose_core.formats import load_sequence
from scail_pose_core.media.video import probe_video

SMALL = ["--resolution", "256", "448", "--device", "cpu", "-q"]


@pytest.fixture(scope="module")
def models_dir() -> Path:
    return cached_models_dir((256, 448))


@pytest.fixture(scope="module")
def nobody_dir() -> Path:
    return cached_models_dir((256, 448), nobody=True)


def _example(d: Path, frames: int = 5, ref: str = "ref_image.jpg") -> Path:
    d.mkdir(parents=True)
    write_figure_video(d / "driving.mp4", frames, size_hw=(256, 448))
    make_image(d / ref, hw=(300, 200))
    return d


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _no_temp_files(d: Path) -> None:
    left = [p.name for p in d.iterdir() if p.name.startswith(".") or "partial" in p.name]
    assert left == [], left


def test_subdir_writes_rendered_and_poses(capsys, tmp_path: Path, models_dir: Path) -> None:
    d = _example(tmp_path / "001", frames=6)
    rc, out, err = _run(capsys, "extract", "--subdir", d, "--models-dir", models_dir, *SMALL)
    assert rc == 0, err
    assert "rendered.mp4" in out
    info = probe_video(d / "rendered.mp4")
    assert info.frame_count == 6 and info.size_hw == (256, 448) and info.fps == pytest.approx(16)
    seq = load_sequence(d / "rendered_poses.npz")
    assert len(seq) == 6 and seq.size_hw == (256, 448) and seq.frames[0].pose3d.num_people == 1
    assert not (d / "rendered_aligned.mp4").exists()
    _no_temp_files(d)


def test_use_align_writes_rendered_aligned(capsys, tmp_path: Path, models_dir: Path) -> None:
    d = _example(tmp_path / "002", ref="ref.jpg")
    rc, _, err = _run(
        capsys, "extract", "--subdir", d, "--use-align", "--models-dir", models_dir, "--half",
        "--frames-4n1", "--fps", "8", "--pose-format", "json", *SMALL,
    )  # fmt: skip
    assert rc == 0, err
    info = probe_video(d / "rendered_aligned.mp4")
    assert info.frame_count == 5 and info.size_hw == (128, 224) and info.fps == pytest.approx(8)
    seq = load_sequence(d / "rendered_aligned_poses.json")
    assert seq.meta["retarget"]["mode"] == "camera_fit"
    assert not (d / "rendered.mp4").exists()
    _no_temp_files(d)


def test_video_and_ref_anywhere_with_out(capsys, tmp_path: Path, models_dir: Path) -> None:
    d = _example(tmp_path / "in")
    out = tmp_path / "elsewhere" / "pose.mp4"
    out.parent.mkdir()
    rc, _, err = _run(
        capsys, "extract", "--video", d / "driving.mp4", "--ref", d / "ref_image.jpg",
        "--out", out, "--retarget", "bone_lengths", "--models-dir", models_dir, *SMALL,
    )  # fmt: skip
    assert rc == 0, err
    assert probe_video(out).frame_count == 5
    assert load_sequence(out.with_name("pose_poses.npz")).meta["retarget"]["mode"] == "bone_lengths"
    # --out as a folder
    rc, _, err = _run(
        capsys, "extract", "--video", d / "driving.mp4", "--out", out.parent,
        "--models-dir", models_dir, *SMALL,
    )  # fmt: skip
    assert rc == 0, err
    assert (out.parent / "rendered.mp4").is_file() and (out.parent / "rendered_poses.npz").is_file()


def test_no_person_anywhere(capsys, tmp_path: Path, nobody_dir: Path) -> None:
    d = _example(tmp_path / "003")
    rc, _, err = _run(capsys, "extract", "--subdir", d, "--models-dir", nobody_dir, *SMALL)
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "no person was found" in lines[0], err
    assert sorted(p.name for p in d.iterdir()) == ["driving.mp4", "ref_image.jpg"]


def test_batch_skips_finished_and_keeps_going(capsys, tmp_path: Path, models_dir: Path) -> None:
    root = tmp_path / "root"
    a = _example(root / "a")
    bad = root / "b_bad"
    bad.mkdir()
    (bad / "driving.mp4").write_bytes(b"garbage" * 100)
    make_image(bad / "ref_image.jpg")
    c = _example(root / "c")
    noref = root / "d_noref"
    noref.mkdir()
    write_figure_video(noref / "driving.mp4", 2, size_hw=(256, 448))
    (root / "not_an_example").mkdir()
    # c is already finished: must be skipped, untouched
    (c / "rendered.mp4").write_bytes(b"finished earlier")
    (c / "rendered_poses.npz").write_bytes(b"finished earlier")
    rc, out, err = _run(capsys, "extract", "--batch", root, "--models-dir", models_dir, *SMALL)
    assert rc == 1
    assert "1 done, 1 skipped (finished), 2 failed" in out
    failed = [ln for ln in out.splitlines() if ln.startswith("failed:")]
    assert len(failed) == 2
    assert "b_bad" in failed[0] and "driving.mp4" in failed[0]
    assert "d_noref" in failed[1] and "ref_image.jpg" in failed[1]
    assert probe_video(a / "rendered.mp4").frame_count == 5
    assert (c / "rendered.mp4").read_bytes() == b"finished earlier"
    assert sorted(p.name for p in bad.iterdir()) == ["driving.mp4", "ref_image.jpg"]
    for d in (a, bad, noref):
        _no_temp_files(d)
    # second run: a is finished now, the failures are retried and fail again
    rc, out, _ = _run(capsys, "extract", "--batch", root, "--models-dir", models_dir, *SMALL)
    assert rc == 1 and "0 done, 2 skipped (finished), 2 failed" in out


@pytest.mark.slow
def test_scail_001_subdir_use_align(capsys, tmp_path: Path) -> None:
    video = shared_path("media", "scail_001_driving.mp4")
    ref = shared_path("media", "scail_001_ref.jpg")
    d = tmp_path / "001"
    d.mkdir()
    os.symlink(video, d / "driving.mp4")  # link, never copy, the shared media
    os.symlink(ref, d / "ref_image.jpg")
    models = cached_models_dir((512, 896))
    rc, _, err = _run(
        capsys, "extract", "--subdir", d, "--use-align", "--models-dir", models, "--device",
        "cpu", "-q",
    )  # fmt: skip
    assert rc == 0, err
    info = probe_video(d / "rendered_aligned.mp4")
    assert info.size_hw == (512, 896) and info.frame_count == 65 and info.fps == pytest.approx(16)
    seq = load_sequence(d / "rendered_aligned_poses.npz")
    assert len(seq) == 65 and seq.size_hw == (512, 896)
    assert seq.meta["source_size_hw"] == [1080, 2048]


@pytest.mark.slow
def test_demo_runs_in_a_fresh_process_without_weights(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SCAIL_POSE_MODELS"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "empty_cache")  # no model anywhere
    out = tmp_path / "demo.mp4"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scail_pose_core", "demo", "--out", str(out), "-q"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    info = probe_video(out)
    assert info.frame_count == 33 and info.size_hw == (512, 896) and info.fps == pytest.approx(16)
    seq = load_sequence(tmp_path / "demo_poses.npz")
    assert len(seq) == 33 and seq.meta["source"] == "demo"
    from scail_pose_core.media.video import read_video

    frames, _ = read_video(out)
    lit = (frames.max(axis=-1) > 24).mean(axis=(1, 2))
    assert (lit > 0.01).all()  # a skeleton in every frame
    assert np.abs(frames[0].astype(int) - frames[8].astype(int)).mean() > 0.5  # it moves
    assert elapsed < 120, elapsed


def test_batch_finished_check_is_per_mode(capsys, tmp_path: Path, models_dir: Path) -> None:
    root = tmp_path / "root"
    a = _example(root / "a", frames=3)
    # finished for camera_fit (--use-align) only
    (a / "rendered_aligned.mp4").write_bytes(b"aligned earlier")
    (a / "rendered_aligned_poses.npz").write_bytes(b"aligned earlier")
    rc, out, err = _run(capsys, "extract", "--batch", root, "--use-align",
                        "--models-dir", models_dir, *SMALL)  # fmt: skip
    assert rc == 0 and "0 done, 1 skipped" in out, (out, err)
    rc, out, err = _run(capsys, "extract", "--batch", root, "--retarget", "bone_lengths",
                        "--models-dir", models_dir, *SMALL)  # fmt: skip
    assert rc == 0 and "1 done, 0 skipped" in out, (out, err)
    assert probe_video(a / "rendered_retargeted.mp4").frame_count == 3
    seq = load_sequence(a / "rendered_retargeted_poses.npz")
    assert seq.meta["retarget"]["mode"] == "bone_lengths"
    assert (a / "rendered_aligned.mp4").read_bytes() == b"aligned earlier"
