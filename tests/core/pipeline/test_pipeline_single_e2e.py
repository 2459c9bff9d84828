"""The single-person job end to end with stand-in models (YOLOX, DWPose, NLF stand-ins).

The stand-ins plant known answers: YOLOX "detects" the planted box in every frame, DWPose reads
colour markers, NLF finds the non-black region of its masked input and places a 1.7 m T-pose
there (tests/standin_nlf.py). So frames drawn with :func:`figure_frames` have a person whose 3D
pelvis projects to the box centre, and all-black frames have nobody.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pipeline_helpers import (
    cached_models,
    figure_frames,
    lit_fraction,
    person_box,
    write_figure_video,
)

from scail_pose_core.errors import Cancelled, InputError
from scail_pose_core.formats import load_sequence, save_sequence
from scail_pose_core.media.video import probe_video, read_video
from scail_pose_core.pipeline import PipelineOptions, run_single, sequence_fps

SMALL = (256, 448)  # a small landscape target (multiples of 32) keeps the render quick


@pytest.fixture(scope="module")
def models_small():
    return cached_models(SMALL)


@pytest.fixture(scope="module")
def models_nobody():
    return cached_models(SMALL, nobody=True)


def _opts(**kw) -> PipelineOptions:
    return PipelineOptions(**{"resolution": SMALL, "chunk_size": 4, "device": "cpu", **kw})


def test_array_in_file_out(models_small, tmp_path: Path) -> None:
    frames = figure_frames(9, SMALL, blank=(4,))
    calls: list[tuple[int, int]] = []
    out = tmp_path / "out.mp4"
    res = run_single(
        frames, None, models_small, _opts(), lambda d, t: calls.append((d, t)), None, out
    )
    assert res.output_path == out and out.is_file() and res.frames is None
    assert res.frame_count == 9 and res.size_hw == SMALL and res.fps == 16.0
    info = probe_video(out)
    assert info.frame_count == 9 and info.size_hw == SMALL and info.fps == pytest.approx(16.0)
    # progress: monotone, ends at its total, total covers extraction and rendering
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and calls[-1][0] == calls[-1][1] >= 18
    seq = res.sequence
    assert len(seq) == 9 and seq.size_hw == SMALL and seq.meta["job"] == "single"
    # the planted person: 3D pelvis projects to the box centre; frame 4 (black) has nobody
    h, w = SMALL
    x1, y1, x2, y2 = person_box(SMALL)
    for i, f in enumerate(seq.frames):
        if i == 4:
            assert f.pose3d.num_people == 0
            continue
        assert f.pose3d.num_people == 1 and f.pose2d.num_people == 1
        u, v = seq.camera.project(f.pose3d.joints_mm[0, 0].astype(np.float64))
        assert abs(u - (x1 + x2) / 2) < 2 and abs(v - (y1 + y2) / 2) < 2
    # rendered: a skeleton everywhere except the empty frame, which is black
    video, _ = read_video(out)
    lit = lit_fraction(video)
    assert lit[4] < 1e-3 and (np.delete(lit, 4) > 0.005).all()


def test_file_in_with_resize_crop_and_orientation(models_small, tmp_path: Path) -> None:
    # 2:1 landscape input → resized to height 256, centre-cropped to 448 wide
    src = write_figure_video(tmp_path / "land.mp4", 5, size_hw=(240, 480))
    res = run_single(src, None, models_small, _opts(), output=tmp_path / "a.mp4")
    assert probe_video(tmp_path / "a.mp4").size_hw == SMALL == res.sequence.size_hw
    assert res.sequence.meta["source_size_hw"] == [240, 480]
    # portrait (and square) input → portrait target (W, H swapped)
    src = write_figure_video(tmp_path / "port.mp4", 3, size_hw=(480, 272))
    res = run_single(src, None, cached_models((448, 256)), _opts(), output=None)
    chunks = list(res.frames)
    assert sum(c.shape[0] for c in chunks) == 3
    assert chunks[0].shape[1:] == (448, 256, 3) and res.size_hw == (448, 256)


@pytest.mark.parametrize("mode, count", [("none", 7), ("trim", 5), ("pad", 9)])
def test_lazy_frames_4n1_and_half(models_small, mode: str, count: int) -> None:
    frames = figure_frames(7, SMALL)
    res = run_single(frames, None, models_small, _opts(frames_4n1=mode, output_size="half"))
    assert res.output_path is None and res.size_hw == (128, 224)
    chunks = list(res.frames)
    total = np.concatenate(chunks)
    assert total.shape == (count, 128, 224, 3) and total.dtype == np.uint8
    assert len(res.sequence) == 7  # the sequence keeps every extracted frame
    if mode == "pad":
        np.testing.assert_array_equal(total[-1], total[6])


def test_reference_api_policy_samples_65_frames(models_small, tmp_path: Path) -> None:
    src = write_figure_video(tmp_path / "long.mp4", 70, size_hw=SMALL, blank=(69,))
    res = run_single(
        src, None, models_small, _opts(frame_count_policy="reference_api", chunk_size=16),
        output=tmp_path / "o.mp4",
    )  # fmt: skip
    assert res.frame_count == 65 and len(res.sequence) == 65
    assert res.sequence.fps == pytest.approx(25.0 * 64 / 69)  # evenly sampled 25 fps source
    idx = res.sequence.meta["frame_indices"]
    assert idx == [int(v) for v in np.linspace(0, 69, 65)]
    assert res.sequence.frames[-1].pose3d.num_people == 0  # source frame 69 (black) kept last


def test_no_person_anywhere_is_a_clear_error(models_nobody, tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    with pytest.raises(InputError, match="no person was found in any of the 4 frames"):
        run_single(figure_frames(4, SMALL), None, models_nobody, _opts(), output=out)
    assert list(tmp_path.iterdir()) == []


def test_frame_zero_without_person_does_not_crash(models_small) -> None:
    frames = figure_frames(5, SMALL, blank=(0, 1))
    res = run_single(frames, None, models_small, _opts())
    video = np.concatenate(list(res.frames))
    lit = lit_fraction(video)
    assert lit[0] < 1e-3 and lit[1] < 1e-3 and (lit[2:] > 0.005).all()


def test_cancel_leaves_no_file(models_small, tmp_path: Path) -> None:
    calls = {"n": 0}

    def cancel_in_render() -> None:
        calls["n"] += 1
        if calls["n"] > 6:  # past extraction (2 chunks) into the render
            raise Cancelled("stop")

    out = tmp_path / "o.mp4"
    with pytest.raises(Cancelled):
        run_single(
            figure_frames(12, SMALL), None, models_small, _opts(), None, cancel_in_render, out
        )
    assert list(tmp_path.iterdir()) == []


def test_camera_fit_with_a_reference_image(models_small, tmp_path: Path) -> None:
    ref = figure_frames(1, (512, 896))[
        0
    ]  # same figure, larger: resized to the target like the video
    res = run_single(figure_frames(5, SMALL), ref, models_small, _opts(retarget="camera_fit"))
    assert res.sequence.meta["retarget"]["mode"] == "camera_fit"
    assert sum(c.shape[0] for c in res.frames) == 5
    with pytest.raises(InputError, match="reference image"):
        run_single(figure_frames(2, SMALL), None, models_small, _opts(retarget="camera_fit"))


def test_sequence_saves_and_reloads(models_small, tmp_path: Path) -> None:
    res = run_single(figure_frames(3, SMALL), None, models_small, _opts())
    for ext in ("npz", "json"):
        p = save_sequence(res.sequence, tmp_path / f"s.{ext}")
        back = load_sequence(p)
        assert len(back) == 3 and back.size_hw == SMALL and back.fps == 16.0
        np.testing.assert_allclose(
            back.frames[1].pose3d.joints_mm, res.sequence.frames[1].pose3d.joints_mm
        )


def test_memory_does_not_grow_with_frames() -> None:
    """Python/numpy peak memory (tracemalloc) of 96 frames ≈ that of 24 frames.

    Keeping the frames would add > 6 MB over the 72 extra frames even at the small 128×224
    working size (86 kB each, and the source frames are as large); the per-frame pose data is a
    few kB. Torch/onnxruntime buffers are not traced, but they are per chunk.
    """
    import tracemalloc

    size = (128, 224)
    models = cached_models(size)
    opts = PipelineOptions(resolution=size, chunk_size=16, device="cpu")

    def peak(n: int) -> int:
        def chunks():
            for s in range(0, n, 16):
                yield figure_frames(min(16, n - s), size, start=s)

        tracemalloc.start()
        tracemalloc.reset_peak()
        res = run_single(chunks(), None, models, opts)
        for _ in res.frames:
            pass
        _, p = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return p

    peak(8)  # warm-up (lazy imports, caches)
    p24, p96 = peak(24), peak(96)
    assert p96 - p24 < 3 * 2**20, (p24, p96)  # measured: ~0.4 MB (pose data)


def test_sequence_fps_is_the_source_fps(models_small, tmp_path: Path) -> None:
    # a 25 fps file: the poses keep 25 fps (time-based maths downstream), the mp4 is 16 fps
    src = write_figure_video(tmp_path / "d.mp4", 3, size_hw=SMALL, fps=25.0)
    res = run_single(src, None, models_small, _opts(), output=tmp_path / "o.mp4")
    assert res.sequence.fps == pytest.approx(25.0) and res.fps == 16.0
    assert probe_video(tmp_path / "o.mp4").fps == pytest.approx(16.0)
    # frames without a rate: source_fps when given, else the output rate
    frames = figure_frames(2, SMALL)
    assert run_single(frames, None, models_small, _opts(), source_fps=30).sequence.fps == 30
    assert run_single(frames, None, models_small, _opts(fps=12)).sequence.fps == 12
    # reference_api's even sampling stretches time: 65 of 70 frames play at 25·64/69 fps
    assert sequence_fps(25.0, np.linspace(0, 69, 65).astype(np.int64)) == pytest.approx(
        25.0 * 64 / 69
    )
    assert sequence_fps(25.0, np.arange(81)) == 25.0  # 81–95 frames: the first 81, same rate


def test_chunks_with_a_frame_count_hint_report_real_progress(models_small) -> None:
    n = 6
    calls: list[tuple[int, int]] = []

    def chunks():
        for s in range(0, n, 4):
            yield figure_frames(min(4, n - s), SMALL, start=s)

    res = run_single(chunks(), None, models_small, _opts(), lambda d, t: calls.append((d, t)),
                     num_frames=n)  # fmt: skip
    list(res.frames)
    assert calls[0] == (4, 2 * n)  # the first chunk already counts against the real total
    assert {t for _, t in calls} == {2 * n} and calls[-1] == (2 * n, 2 * n)
    # the policy can pick its frames from chunks with a hint; a wrong hint is an input error
    with pytest.raises(InputError, match="num_frames=3"):
        run_single(chunks(), None, models_small, _opts(), num_frames=3)


def test_without_alignment_2d_of_everyone_3d_of_person0() -> None:
    models = cached_models(SMALL, two=True)
    res = run_single(figure_frames(3, SMALL, two=True), None, models, _opts())
    for f in res.sequence.frames:  # §1.4: 2D of every DWPose person, 3D of person 0 only
        assert f.pose2d.num_people == 2 and f.pose3d.num_people == 1
    first = run_single(
        figure_frames(2, SMALL, two=True), None, models, _opts(overlay_people="first")
    )
    assert all(f.pose2d.num_people == 1 for f in first.sequence.frames)


def test_square_video_goes_portrait() -> None:
    frames = np.full((2, 300, 300, 3), 70, np.uint8)  # grey everywhere: NLF finds someone
    res = run_single(frames, None, cached_models((448, 256)), _opts())
    assert res.size_hw == (448, 256) == res.sequence.size_hw
    assert next(iter(res.frames)).shape[1:] == (448, 256, 3)
