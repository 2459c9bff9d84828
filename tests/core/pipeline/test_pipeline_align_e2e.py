"""Retargeting end to end with stand-ins whose 2D and 3D agree.

The "skeleton" stand-ins (pipeline_helpers.SKELETON_POINTS) draw DWPose markers at the K0
projection of the joints the NLF stand-in returns for the grey region, so a reference image
showing the same skeleton through a known camera K_true = (m·f, m·f, cx + p, cy + q) must be
fitted back to K_true, and the fit must be applied.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from pipeline_helpers import (
    cached_models,
    cached_models_dir,
    draw_markers,
    figure_frames,
    nlf_projection,
    person_box,
    skeleton_markers,
    write_figure_video,
)

from scail_pose_core import cli
from scail_pose_core.formats import load_sequence
from scail_pose_core.media.video import probe_video
from scail_pose_core.pipeline import PipelineOptions, run_single

SMALL = (256, 448)
M_TRUE, P_TRUE, Q_TRUE = 1.1, -12.0, 6.0


def _opts(**kw) -> PipelineOptions:
    return PipelineOptions(**{"resolution": SMALL, "chunk_size": 4, "device": "cpu", **kw})


def _seen_through(x: float, y: float) -> tuple[float, float]:
    """K0 pixel → the pixel K_true shows the same 3D point at."""
    h, w = SMALL
    return M_TRUE * (x - w / 2) + w / 2 + P_TRUE, M_TRUE * (y - h / 2) + h / 2 + Q_TRUE


def reference_image(scale: int = 1, top: int = 0) -> np.ndarray:
    """The driving person 0 seen through K_true, at the target size × ``scale`` (+ ``top``
    rows above: a portrait canvas whose centre crop is the target)."""
    h, w = SMALL
    img = np.zeros((h * scale + 2 * top, w * scale, 3), np.uint8)
    x1, y1, x2, y2 = (int(round(v)) for v in person_box(SMALL))
    (ax, ay), (bx, by) = _seen_through(x1, y1), _seen_through(x2, y2)
    img[top + int(ay * scale) : top + int(by * scale), int(ax * scale) : int(bx * scale)] = 70
    joints = np.array([_seen_through(*xy) for xy in nlf_projection((x1, y1, x2, y2))])
    markers = skeleton_markers(joints)
    if scale == 1:
        draw_markers(img, markers)
    else:
        from standin_onnx import draw_marker

        for code, (x, y) in markers.items():  # pixel centres map as (x + .5)·s − .5
            xy = ((x + 0.5) * scale - 0.5, (y + 0.5) * scale - 0.5 + top)
            draw_marker(img, xy, code, sigma=1.6 * scale, radius=6 * scale)
    return img


@pytest.fixture(scope="module")
def skeleton_models():
    return cached_models(SMALL, two=True, skeleton=True)


def _check_fitted(seq, tol_m: float = 0.02, tol_px: float = 1.5) -> None:
    rep = seq.meta["retarget"]
    fit = rep["characters"][0]["camera_fit"]
    assert rep["applied"] is True and fit["applied"] is True, rep
    assert fit["mode"] == "down" and fit["guardrail_reasons"] == [] and fit["bounds_hit"] == []
    assert fit["m"] == pytest.approx(M_TRUE, abs=tol_m) and fit["s"] == pytest.approx(1, abs=0.02)
    assert fit["p"] == pytest.approx(P_TRUE, abs=tol_px)
    assert fit["q"] == pytest.approx(Q_TRUE, abs=tol_px)
    assert seq.camera != seq.base_camera
    assert seq.camera.fx == pytest.approx(M_TRUE * seq.base_camera.fx, rel=0.02)
    for f in seq.frames:  # the align branch keeps person 0 only (two people drive)
        assert f.pose2d.num_people == 1 and f.pose3d.num_people == 1 and len(f.detections) == 1


def test_camera_fit_is_applied_when_2d_and_3d_agree(skeleton_models) -> None:
    frames = figure_frames(3, SMALL, markers="skeleton", two=True)
    assert all(f.pose2d.num_people == 2 for f in run_single(frames, None, skeleton_models,
                                                            _opts()).sequence.frames)  # fmt: skip
    res = run_single(frames, reference_image(), skeleton_models, _opts(retarget="camera_fit"))
    _check_fitted(res.sequence)
    # the aligned 2D body moved by the head's projected displacement K0 → K_true (§5.6)
    h, w = SMALL
    neck = res.sequence.frames[0].pose2d.body_norm[0, 1] * np.array([w, h])
    x1, y1, x2, y2 = (int(round(v)) for v in person_box(SMALL))
    j = nlf_projection((x1, y1, x2, y2))
    want = j[12] + (np.array(_seen_through(*j[15])) - j[15])
    np.testing.assert_allclose(neck, want, atol=1.5)


def test_portrait_reference_is_cropped_to_the_landscape_target(skeleton_models) -> None:
    # 2× the target, 200 extra rows above and below: resized by 0.5, centre-cropped (§1.2)
    ref = reference_image(scale=2, top=200)
    assert ref.shape[0] > ref.shape[1] is not None  # portrait
    frames = figure_frames(2, SMALL, markers="skeleton", two=True)
    res = run_single(frames, ref, skeleton_models, _opts(retarget="camera_fit"))
    _check_fitted(res.sequence, tol_px=2.0)


def test_rejected_fit_keeps_person0_and_says_it_is_not_aligned(caplog) -> None:
    # default markers: the 2D does not match the stand-in's 3D → the guardrails reject the fit
    models = cached_models(SMALL, two=True)
    frames = figure_frames(3, SMALL, two=True)
    ref = figure_frames(1, SMALL)[0]
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        res = run_single(frames, ref, models, _opts(retarget="camera_fit"))
    rep = res.sequence.meta["retarget"]
    assert rep["applied"] is False and rep["kept_person0_only"] is True
    assert res.sequence.camera == res.sequence.base_camera
    for f in res.sequence.frames:
        assert f.pose2d.num_people == 1 and len(f.detections) == 1
    assert any("NOT aligned" in r.getMessage() for r in caplog.records)


def _subdir(d: Path, ref: np.ndarray, markers="skeleton") -> Path:
    d.mkdir(parents=True)
    write_figure_video(d / "driving.mp4", 3, size_hw=SMALL, markers=markers, two=True)
    cv2.imwrite(str(d / "ref_image.png"), cv2.cvtColor(ref, cv2.COLOR_RGB2BGR))
    return d


def test_cli_use_align_applies_the_fit(capsys, tmp_path: Path) -> None:
    d = _subdir(tmp_path / "001", reference_image())
    models = cached_models_dir(SMALL, two=True, skeleton=True)
    rc = cli.main(["extract", "--subdir", str(d), "--use-align", "--models-dir", str(models),
                   "--resolution", "256", "448", "--device", "cpu", "-q"])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    seq = load_sequence(d / "rendered_aligned_poses.npz")
    _check_fitted(seq)
    assert probe_video(d / "rendered_aligned.mp4").frame_count == 3


def test_cli_use_align_with_nobody_in_the_reference(capsys, caplog, tmp_path, monkeypatch):
    # a YOLOX stand-in that sees nobody in a black image (the plain one "detects" its box always)
    monkeypatch.setattr(cli, "_load_models", lambda args, options: cached_models(SMALL,
                                                                                seeing=True))  # fmt: skip
    d = _subdir(tmp_path / "002", np.zeros((300, 200, 3), np.uint8), markers=True)
    with caplog.at_level(logging.WARNING, logger="scail_pose"):
        rc = cli.main(["extract", "--subdir", str(d), "--use-align", "--resolution", "256",
                       "448", "--device", "cpu", "-q"])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert probe_video(d / "rendered_aligned.mp4").frame_count == 3
    seq = load_sequence(d / "rendered_aligned_poses.npz")
    rep = seq.meta["retarget"]
    assert rep["applied"] is False
    assert rep["characters"][0]["camera_fit"]["reason"] == "no person in the reference"
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "no person was found in the reference image" in messages and "NOT aligned" in messages
