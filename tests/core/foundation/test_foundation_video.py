"""Video (PyAV) and image I/O: real SCAIL clip, tiny write/read round trip, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support_paths import shared_path

from scail_pose_core import InputError
from scail_pose_core.media import (
    iter_video_chunks,
    probe_video,
    read_image,
    read_video,
    write_video,
)


def test_scail_driving_video_probe_and_chunks() -> None:
    path = shared_path("media", "scail_001_driving.mp4")
    info = probe_video(path)
    assert info.frame_count == 65
    assert info.fps == pytest.approx(16.0)
    assert info.size_hw == (1080, 2048)
    sizes = []
    for chunk in iter_video_chunks(path, chunk_size=20, max_frames=None):
        assert chunk.dtype == np.uint8 and chunk.shape[1:] == (1080, 2048, 3)
        sizes.append(chunk.shape[0])
    assert sizes == [20, 20, 20, 5]


def test_scail_driving_video_first_frame_is_rgb() -> None:
    """The clip shows a woman in a red sweater: the decoded frame must be RGB, not BGR."""
    path = shared_path("media", "scail_001_driving.mp4")
    first = next(iter_video_chunks(path, chunk_size=1))[0].astype(np.int32)
    r, g, b = first[..., 0], first[..., 1], first[..., 2]
    red = (r > 120) & (r > g + 50) & (r > b + 50)
    blue = (b > 120) & (b > g + 50) & (b > r + 50)
    assert red.sum() > 10 * max(1, blue.sum())


def _pattern(t: int, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    frames = np.zeros((t, h, w, 3), np.uint8)
    for i in range(t):
        frames[i, ..., 0] = (xx * 4 + i * 10) % 256
        frames[i, ..., 1] = (yy * 4) % 256
        frames[i, ..., 2] = 40 + 20 * i
    return frames


def test_write_read_round_trip(tmp_path: Path) -> None:
    frames = _pattern(9, 48, 64)
    out = write_video(tmp_path / "clip.mp4", (frames[s : s + 4] for s in range(0, 9, 4)), 16.0)
    assert out == tmp_path / "clip.mp4" and out.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # temp file renamed away
    info = probe_video(out)
    assert (info.frame_count, info.size_hw, info.fps) == (9, (48, 64), pytest.approx(16.0))
    back, fps = read_video(out)
    assert back.shape == frames.shape and fps == pytest.approx(16.0)
    err = np.abs(back.astype(int) - frames.astype(int))
    assert err.mean() < 4.0  # lossy H.264 at crf 18
    # per-frame content survives: frame i is nearest to source frame i
    for i in range(9):
        d = [np.abs(back[i].astype(int) - frames[j]).mean() for j in range(9)]
        assert int(np.argmin(d)) == i


def test_write_fractional_fps_and_odd_size(tmp_path: Path) -> None:
    frames = _pattern(3, 33, 47)
    out = write_video(tmp_path / "odd.mp4", frames, 29.97)
    info = probe_video(out)
    assert info.size_hw == (34, 48)  # padded to even
    assert info.fps == pytest.approx(29.97, abs=1e-3)
    with pytest.raises(InputError, match="needs even sizes"):
        write_video(tmp_path / "odd2.mp4", frames, 16, odd_size="error")
    assert not (tmp_path / "odd2.mp4").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mp4"]


def test_write_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no frames"):
        write_video(tmp_path / "empty.mp4", [], 16)
    with pytest.raises(InputError, match="uint8 RGB"):
        write_video(tmp_path / "f.mp4", np.zeros((2, 8, 8, 3), np.float32), 16)
    with pytest.raises(InputError, match="size changed"):
        write_video(
            tmp_path / "s.mp4",
            [np.zeros((1, 8, 8, 3), np.uint8), np.zeros((1, 8, 10, 3), np.uint8)],
            16,
        )
    with pytest.raises(InputError, match="does not exist"):
        write_video(tmp_path / "nope" / "x.mp4", np.zeros((1, 8, 8, 3), np.uint8), 16)
    with pytest.raises(InputError, match="fps"):
        write_video(tmp_path / "x.mp4", np.zeros((1, 8, 8, 3), np.uint8), 0)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_replaced_only_on_success(tmp_path: Path) -> None:
    dest = tmp_path / "keep.mp4"
    dest.write_bytes(b"old")
    with pytest.raises(InputError):
        write_video(dest, np.zeros((2, 8, 8, 3), np.float32), 16)
    assert dest.read_bytes() == b"old"
    write_video(dest, _pattern(2, 16, 16), 16)
    assert probe_video(dest).frame_count == 2


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        probe_video(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="is a folder"):
        read_video(tmp_path)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 50)
    with pytest.raises(InputError, match="junk.mp4"):
        probe_video(junk)
    with pytest.raises(InputError, match="junk.mp4"):
        list(iter_video_chunks(junk))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError):
        read_video(empty)
    with pytest.raises(InputError, match="chunk_size"):
        list(iter_video_chunks(junk, chunk_size=0))


def test_read_image_real_files() -> None:
    img = read_image(shared_path("media", "skimage_astronaut.png"))
    assert img.shape == (512, 512, 3) and img.dtype == np.uint8
    jpg = read_image(shared_path("media", "scail_001_ref.jpg"))
    assert jpg.shape == (1080, 1920, 3)


def test_read_image_rgb_alpha_grey(tmp_path: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    bgra = np.zeros((6, 5, 4), np.uint8)
    bgra[..., 0] = 255  # blue in OpenCV's BGR(A) order
    bgra[..., 3] = 0  # fully transparent: alpha is dropped, not composited
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    rgb = read_image(tmp_path / "a.png")
    assert rgb.shape == (6, 5, 3) and np.all(rgb[..., 2] == 255) and np.all(rgb[..., :2] == 0)
    cv2.imwrite(str(tmp_path / "g.png"), np.full((4, 4), 77, np.uint8))
    grey = read_image(tmp_path / "g.png")
    assert grey.shape == (4, 4, 3) and np.all(grey == 77)


def test_read_image_errors(tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InputError, match="cannot decode"):
        read_image(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_image(tmp_path / "none.jpg")
    with pytest.raises(InputError, match="is a folder"):
        read_image(tmp_path)


def test_frame_count_without_container_count(tmp_path: Path) -> None:
    """Matroska stores no frame count: probe_video counts the packets instead."""
    av = pytest.importorskip("av")
    path = tmp_path / "clip.mkv"
    with av.open(str(path), "w", format="matroska") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 32, 16, "yuv420p"
        for img in _pattern(7, 16, 32):
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    with av.open(str(path)) as c:
        assert not c.streams.video[0].frames  # the fallback is really exercised
    info = probe_video(path)
    assert (info.frame_count, info.size_hw, info.fps) == (7, (16, 32), pytest.approx(10.0))
    assert sum(ch.shape[0] for ch in iter_video_chunks(path, chunk_size=3)) == 7


def test_scail_driving_frame_resize_crop() -> None:
    """The reference preprocessing of the real clip: 2048×1080 → 970×512 → crop left 37."""
    from scail_pose_core.geometry import plan_resize_crop, target_size_for
    from scail_pose_core.media import resize_crop

    path = shared_path("media", "scail_001_driving.mp4")
    frames = next(iter_video_chunks(path, chunk_size=2))
    target = target_size_for(frames.shape[1:3])
    g = plan_resize_crop(frames.shape[1:3], target)
    assert (target, g.resized_hw, g.left, g.top) == ((512, 896), (512, 970), 37, 0)
    out = resize_crop(frames, g)
    assert out.shape == (2, 512, 896, 3)
    # a centre crop of a uniformly shrunk frame keeps the average colour of the cropped region
    x0, x1 = round(37 * 2048 / 970), round((37 + 896) * 2048 / 970)
    src_mean = frames[:, :, x0:x1].reshape(-1, 3).mean(0)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), src_mean, atol=1.0)
