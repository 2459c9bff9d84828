"""The command line: folder discovery, option mapping, and one-line errors on bad input.

None of these need a model: bad inputs are rejected before any weights are looked for, and a
missing model is reported in milliseconds when offline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_helpers import make_example, make_image, make_video

from scail_pose_core import cli
from scail_pose_core.errors import InputError


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    return make_example(tmp_path)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def _assert_one_line_error(err: str, *words: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m scail_pose_core: error: "), lines[0]
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


def test_find_pair_uses_the_reference_search_order(tmp_path: Path) -> None:
    make_video(tmp_path / "driving.mp4", frames=2)
    for name in ("ref.jpg", "ref_image.png", "ref_image.jpg"):
        make_image(tmp_path / name)
        video, ref = cli.find_pair(tmp_path)
        assert video == tmp_path / "driving.mp4" and ref == tmp_path / name
    # all three present: ref_image.jpg wins
    assert cli.find_pair(tmp_path)[1].name == "ref_image.jpg"


def test_find_pair_errors_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        cli.find_pair(tmp_path / "nope")
    with pytest.raises(InputError, match="driving.mp4"):
        cli.find_pair(tmp_path)
    make_video(tmp_path / "driving.mp4", frames=2)
    with pytest.raises(InputError, match="ref_image.jpg, ref_image.png, ref.jpg"):
        cli.find_pair(tmp_path)


def test_output_names_follow_the_reference() -> None:
    assert cli.output_names("none") == ("rendered.mp4", "rendered_poses.npz")
    assert cli.output_names("camera_fit") == ("rendered_aligned.mp4", "rendered_aligned_poses.npz")
    # bone_lengths has a name of its own (a batch must not take camera_fit's output for it)
    assert cli.output_names("bone_lengths", "json") == (
        "rendered_retargeted.mp4",
        "rendered_retargeted_poses.json",
    )


def test_options_mapping_from_flags() -> None:
    p = cli.build_parser()
    args = p.parse_args(["extract", "--subdir", "x", "--use-align", "--half", "--frames-4n1"])
    o = cli._options(args)
    assert o.retarget == "camera_fit" and o.output_size == "half" and o.frames_4n1 == "trim"
    assert o.resolution == (512, 896) and o.fps == 16.0 and not o.multi
    args = p.parse_args(
        ["extract", "--video", "v.mp4", "--retarget", "bone_lengths", "--resolution", "448", "768",
         "--fps", "24", "--multi", "--frame-count-policy", "reference_api", "--device", "cpu"]
    )  # fmt: skip
    o = cli._options(args)
    assert o.retarget == "bone_lengths" and o.resolution == (448, 768) and o.fps == 24.0
    assert o.multi and o.crop == "target"  # an explicit size with --multi resizes to it
    assert o.frame_count_policy == "reference_api" and o.device == "cpu"
    args = p.parse_args(["extract", "--subdir", "x", "--multi"])
    assert cli._options(args).uses_native_size()  # §7: native size by default


def test_use_align_conflicting_with_retarget(capsys, example_dir: Path) -> None:
    rc, _, err = _run(
        capsys, "extract", "--subdir", str(example_dir), "--use-align", "--retarget", "none"
    )
    assert rc == 1
    _assert_one_line_error(err, "--use-align")


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["extract"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["extract", "--subdir", "a", "--video", "b"])
    assert e.value.code == 2
    capsys.readouterr()


def _listing(d: Path) -> set[str]:
    return {p.name for p in d.iterdir()}


def test_missing_video(capsys, tmp_path: Path) -> None:
    rc, _, err = _run(capsys, "extract", "--video", str(tmp_path / "missing.mp4"))
    assert rc == 1
    _assert_one_line_error(err, "missing.mp4", "does not exist")
    assert _listing(tmp_path) == set()


def test_unreadable_video(capsys, tmp_path: Path) -> None:
    bad = tmp_path / "driving.mp4"
    bad.write_bytes(b"this is not a video at all" * 20)
    make_image(tmp_path / "ref_image.jpg")
    rc, _, err = _run(capsys, "extract", "--subdir", str(tmp_path))
    assert rc == 1
    _assert_one_line_error(err, "driving.mp4")
    assert _listing(tmp_path) == {"driving.mp4", "ref_image.jpg"}


def test_zero_frame_video(capsys, tmp_path: Path) -> None:
    import av

    path = tmp_path / "driving.mp4"
    with av.open(str(path), "w") as c:  # a valid mp4 header, no frame ever encoded
        s = c.add_stream("libx264", rate=16)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        c.start_encoding()
    assert path.stat().st_size > 0
    make_image(tmp_path / "ref_image.jpg")
    rc, _, err = _run(capsys, "extract", "--subdir", str(tmp_path))
    assert rc == 1
    _assert_one_line_error(err, "driving.mp4")
    assert _listing(tmp_path) == {"driving.mp4", "ref_image.jpg"}


def test_reference_that_is_not_an_image(capsys, tmp_path: Path) -> None:
    make_video(tmp_path / "driving.mp4")
    (tmp_path / "ref_image.jpg").write_text("not an image")
    rc, _, err = _run(capsys, "extract", "--subdir", str(tmp_path))
    assert rc == 1
    _assert_one_line_error(err, "ref_image.jpg")
    assert _listing(tmp_path) == {"driving.mp4", "ref_image.jpg"}


def test_folder_without_expected_files(capsys, tmp_path: Path) -> None:
    rc, _, err = _run(capsys, "extract", "--subdir", str(tmp_path))
    assert rc == 1
    _assert_one_line_error(err, "driving.mp4")
    make_video(tmp_path / "driving.mp4")
    rc, _, err = _run(capsys, "extract", "--subdir", str(tmp_path))
    assert rc == 1
    _assert_one_line_error(err, "ref_image.jpg")
    assert _listing(tmp_path) == {"driving.mp4"}


def test_retarget_without_reference(capsys, tmp_path: Path) -> None:
    make_video(tmp_path / "v.mp4")
    rc, _, err = _run(capsys, "extract", "--video", str(tmp_path / "v.mp4"), "--use-align")
    assert rc == 1
    _assert_one_line_error(err, "--ref")


def test_too_short_for_the_reference_api_policy(capsys, example_dir: Path) -> None:
    rc, _, err = _run(
        capsys, "extract", "--subdir", str(example_dir), "--frame-count-policy", "reference_api"
    )
    assert rc == 1
    _assert_one_line_error(err, "at least 65")


def test_weights_missing_while_offline(
    capsys, example_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    empty = tmp_path / "models"
    empty.mkdir()
    t0 = time.perf_counter()
    rc, _, err = _run(capsys, "extract", "--subdir", str(example_dir), "--models-dir", str(empty))
    assert time.perf_counter() - t0 < 10
    assert rc == 1
    _assert_one_line_error(err, "yolox_l.onnx", "not found", "download-models")
    assert _listing(example_dir) == {"driving.mp4", "ref_image.jpg"}


def test_batch_root_errors(capsys, tmp_path: Path) -> None:
    rc, _, err = _run(capsys, "extract", "--batch", str(tmp_path / "nope"))
    assert rc == 1
    _assert_one_line_error(err, "does not exist")
    (tmp_path / "empty").mkdir()
    rc, _, err = _run(capsys, "extract", "--batch", str(tmp_path))
    assert rc == 1
    _assert_one_line_error(err, "driving.mp4")


def test_demo_rejects_bad_output(capsys, tmp_path: Path) -> None:
    rc, _, err = _run(capsys, "demo", "--out", str(tmp_path / "demo.gif"))
    assert rc == 1
    _assert_one_line_error(err, ".mp4")
    rc, _, err = _run(capsys, "demo", "--out", str(tmp_path / "no" / "demo.mp4"))
    assert rc == 1
    _assert_one_line_error(err, "does not exist")


def test_download_models_offline_fails_fast_in_one_line(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rc, _, err = _run(capsys, "download-models", "yolox_l", "--models-dir", str(tmp_path / "m"))
    assert rc == 1
    _assert_one_line_error(err, "yolox_l.onnx")
    assert not any((tmp_path / "m").rglob("*.onnx"))
    rc, _, err = _run(capsys, "download-models", "no_such_model")
    assert rc == 1
    _assert_one_line_error(err, "unknown model", "yolox_l")


def test_download_models_list_shows_where_each_file_is(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "detection").mkdir()
    (tmp_path / "detection" / "yolox_l.onnx").write_bytes(b"x")
    rc, out, _ = _run(capsys, "download-models", "--list", "--models-dir", str(tmp_path))
    assert rc == 0
    rows = {ln.split()[0]: ln for ln in out.splitlines()}
    assert str(tmp_path / "detection" / "yolox_l.onnx") in rows["yolox_l"]
    assert rows["nlf"].endswith("missing") and "sam2.1_large" in rows


def test_progress_printer_without_tqdm(capsys, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *a, **k):
        if name == "tqdm":
            raise ImportError("no tqdm")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    bar = cli.ProgressPrinter("job", min_interval_s=1e9)
    for d in range(0, 101):
        bar(d, 100)
    bar.close()
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "job: 0% (0/100)" and lines[-1] == "job: 100% (100/100)"
    assert 5 <= len(lines) <= 12  # about every 10 %, not every step


def test_demo_small_half_two_people(capsys, tmp_path: Path) -> None:
    from scail_pose_core.formats import load_sequence
    from scail_pose_core.media.video import probe_video

    out = tmp_path / "d.mp4"
    rc, stdout, err = _run(
        capsys, "demo", "--out", str(out), "--frames", "3", "--people", "2", "--half",
        "--resolution", "256", "448", "--fps", "8", "-q",
    )  # fmt: skip
    assert rc == 0, err
    info = probe_video(out)
    assert info.size_hw == (128, 224) and info.frame_count == 3 and info.fps == pytest.approx(8)
    seq = load_sequence(tmp_path / "d_poses.npz")
    assert seq.size_hw == (256, 448) and seq.frames[0].pose3d.num_people == 2
    assert "224x128" in stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.mp4", "d_poses.npz"]
