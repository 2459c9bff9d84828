"""The multi-character job end to end: stand-in YOLOX/DWPose/NLF and a box-mask SAM2 stand-in
(pipeline_helpers.BoxSegmenter), plus one run with the real tiny SAM 2.1 network (random
weights) to prove the plumbing into ``sam2`` itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pipeline_helpers import (
    BoxSegmenter,
    SECOND_BOX_512x896,
    cached_models,
    cached_models_dir,
    figure_frames,
    lit_fraction,
    make_image,
    person_box,
    write_figure_video,
)
from support_paths import shared_path

from scail_pose_core import cli
from scail_pose_core.errors import InputError
from scail_pose_core.formats import load_sequence
from scail_pose_core.media.video import probe_video, read_video
from scail_pose_core.pipeline import PipelineModels, PipelineOptions, run_multi

SMALL = (256, 448)


def _opts(**kw) -> PipelineOptions:
    return PipelineOptions(**{"multi": True, "chunk_size": 4, "device": "cpu", **kw})


def test_two_characters_native_size(tmp_path: Path) -> None:
    seg = BoxSegmenter()
    models = cached_models(SMALL, two=True, segmenter=seg)
    frames = figure_frames(6, SMALL, two=True, blank=(2,))  # nobody on frame 2
    out = tmp_path / "multi.mp4"
    res = run_multi(frames, None, models, _opts(), output=out)
    info = probe_video(out)
    assert info.size_hw == SMALL and info.frame_count == 6 and info.fps == pytest.approx(16)
    seq = res.sequence
    assert seq.meta["job"] == "multi" and seq.size_hw == SMALL and len(seq) == 6
    # prompted on frame 0 with the two boxes, the largest person = character 0
    prompts = seg.calls[0]["prompts"]
    assert [p.frame_index for p in prompts] == [0, 0]
    np.testing.assert_allclose(prompts[0].box_xyxy, person_box(SMALL), atol=0.5)
    h, w = SMALL
    for i, f in enumerate(seq.frames):
        p3 = f.pose3d
        if i == 2:  # empty masks: nobody lifted, nothing drawn
            assert not p3.present.any()
            continue
        assert p3.present.tolist() == [True, True] and p3.track_ids.tolist() == [0, 1]
        # 2D assigned by mask: character 0 = the larger, right-hand person, 1 = the left one
        # (the NLF stand-in sees the whole masked frame, background included, so its 3D
        # does not tell the characters apart)
        p2 = f.pose2d
        assert p2.num_people == 2 and p2.track_ids.tolist() == [0, 1]
        for c, box in ((0, person_box(SMALL)), (1, person_box(SMALL, SECOND_BOX_512x896))):
            vis = p2.body_scores[c] > 0.3
            x = p2.body_norm[c, vis, 0] * w
            assert vis.sum() >= 10 and box[0] <= x.min() and x.max() <= box[2], (c, x)
    video, _ = read_video(out)
    lit = lit_fraction(video)
    assert lit[2] < 1e-3 and (np.delete(lit, 2) > 0.01).all()
    # both skeletons are drawn: lit pixels on both sides of the frame
    left = (video[3, :, : w // 2].max(axis=-1) > 24).mean()
    right = (video[3, :, w // 2 :].max(axis=-1) > 24).mean()
    assert left > 0.005 and right > 0.005


def test_multi_resized_to_target_and_half(tmp_path: Path) -> None:
    models = cached_models(SMALL, two=True, segmenter=BoxSegmenter())
    src = write_figure_video(tmp_path / "d.mp4", 5, size_hw=(240, 480))
    res = run_multi(src, None, models, _opts(crop="target", resolution=SMALL, output_size="half"))
    chunks = list(res.frames)
    assert np.concatenate(chunks).shape == (5, 128, 224, 3)
    assert res.sequence.size_hw == SMALL


def test_multi_needs_a_segmenter_and_a_person() -> None:
    models = cached_models(SMALL)
    with pytest.raises(InputError, match="SAM2 segmenter"):
        run_multi(figure_frames(2, SMALL), None, models, _opts())
    nobody = cached_models(SMALL, nobody=True, segmenter=BoxSegmenter())
    with pytest.raises(InputError, match="no person was found in any of the 3 frames"):
        run_multi(figure_frames(3, SMALL), None, nobody, _opts())


@pytest.mark.slow
def test_multi_with_the_real_sam2_network(tmp_path: Path) -> None:
    from standin_sam2 import tiny_segmenter

    seg = tiny_segmenter()  # real SAM 2.1 tiny, random weights (skips when sam2 is absent)
    models = cached_models(SMALL, two=True, segmenter=seg)
    frames = figure_frames(3, SMALL, two=True)
    try:
        res = run_multi(frames, None, models, _opts())
    except InputError as exc:  # random weights may segment nothing: then the clear error
        assert "no character could be lifted" in str(exc)
        return
    video = np.concatenate(list(res.frames))
    assert video.shape == (3, *SMALL, 3)
    assert res.sequence.frames[0].pose3d.track_ids.tolist() == [0, 1]


@pytest.mark.slow
def test_cli_multi_on_scail_001(capsys, tmp_path: Path, monkeypatch) -> None:
    import os

    d = tmp_path / "001"
    d.mkdir()
    os.symlink(shared_path("media", "scail_001_driving.mp4"), d / "driving.mp4")
    os.symlink(shared_path("media", "scail_001_ref.jpg"), d / "ref_image.jpg")
    models_dir = cached_models_dir((512, 896))
    real_load = PipelineModels.load

    def load_with_box_segmenter(*args, **kwargs):  # no SAM2 checkpoint can exist here
        kwargs["multi"] = False
        m = real_load(*args, **kwargs)
        m.segmenter = BoxSegmenter()
        return m

    monkeypatch.setattr(PipelineModels, "load", staticmethod(load_with_box_segmenter))
    rc = cli.main(
        ["extract", "--subdir", str(d), "--multi", "--resolution", "512", "896",
         "--models-dir", str(models_dir), "--device", "cpu", "-q"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert rc == 0, err
    info = probe_video(d / "rendered.mp4")
    assert info.size_hw == (512, 896) and info.frame_count == 65 and info.fps == pytest.approx(16)
    seq = load_sequence(d / "rendered_poses.npz")
    assert seq.meta["job"] == "multi" and len(seq) == 65
    assert all(f.pose3d.present[0] for f in seq.frames)


def test_cli_multi_without_sam2_checkpoint(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    d = tmp_path / "ex"
    d.mkdir()
    write_figure_video(d / "driving.mp4", 2, size_hw=SMALL)
    make_image(d / "ref_image.jpg")
    rc = cli.main(
        ["extract", "--subdir", str(d), "--multi", "--sam2", "tiny",
         "--models-dir", str(cached_models_dir(SMALL)), "-q"]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "sam2.1_hiera_tiny.pt" in lines[0], err
    assert sorted(p.name for p in d.iterdir()) == ["driving.mp4", "ref_image.jpg"]


def test_multi_frame_size_change_is_an_input_error_and_fps_is_the_source() -> None:
    models = cached_models(SMALL, two=True, segmenter=BoxSegmenter())

    def chunks():
        yield figure_frames(2, SMALL, two=True)
        yield figure_frames(2, (128, 224), two=True)

    with pytest.raises(InputError, match="frame size changed"):
        run_multi(chunks(), None, models, _opts())
    res = run_multi(figure_frames(3, SMALL, two=True), None, models, _opts(), source_fps=30)
    assert res.sequence.fps == 30 and res.fps == 16


def test_frame_buffer_preallocates_and_grows() -> None:
    from scail_pose_core.pipeline import _FrameBuffer

    a = np.arange(5 * 2 * 3 * 3, dtype=np.uint8).reshape(5, 2, 3, 3)
    known = _FrameBuffer(5, (2, 3))
    buf0 = known._buf
    known.append(a[:2])
    known.append(a[2:])
    assert known._buf is buf0  # allocated once: no concatenation, no second copy
    np.testing.assert_array_equal(known.frames(), a)
    unknown = _FrameBuffer(1, (2, 3))  # count unknown: capacity doubles
    for i in range(5):
        unknown.append(a[i : i + 1])
    assert unknown._buf.shape[0] == 8
    np.testing.assert_array_equal(unknown.frames(), a)
