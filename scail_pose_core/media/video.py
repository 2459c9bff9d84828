"""Video files through PyAV: chunked RGB reading and atomic H.264 mp4 writing.

Frames are uint8 RGB (t, H, W, 3). Reading streams the file chunk by chunk so memory stays
bounded; writing accepts one array or any iterable of chunks and writes ``<name>.mp4`` via a
temporary file in the same folder, renamed into place only when the encoder has finished.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InputError
from .frames import as_rgb_chunk

LOGGER = logging.getLogger("scail_pose")

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learns without decoding pixels.

    Fields:
        fps: average frames per second (float; 16.0 for the SCAIL examples).
        frame_count: number of video frames (from the container, else counted from packets).
        size_hw: (H, W) of the decoded frames in pixels.
    """

    fps: float
    frame_count: int
    size_hw: tuple[int, int]


def _open_input(path: PathLike):  # -> av container
    import av

    p = Path(path)
    if not p.is_file():
        what = "is a folder, not a video file" if p.is_dir() else "does not exist"
        raise InputError(f"video {str(p)!r} {what}; pass the path of an .mp4/.mov/.webm file")
    try:
        container = av.open(str(p), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(
            f"cannot read {str(p)!r} as a video ({exc}); expected a video file such as H.264 mp4"
        ) from exc
    if not container.streams.video:
        container.close()
        raise InputError(f"{str(p)!r} has no video stream (audio-only or not a video file)")
    return container


def _stream_fps(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def probe_video(path: PathLike) -> VideoInfo:
    """fps, frame count and frame size of a video file.

    Raises:
        InputError: missing, unreadable, no video stream, or zero frames.
    """
    container = _open_input(path)
    try:
        stream = container.streams.video[0]
        count = int(stream.frames or 0)
        if count <= 0:  # no count in the container: count packets (no decoding)
            count = sum(1 for pkt in container.demux(stream) if pkt.size > 0)
        h, w = int(stream.codec_context.height), int(stream.codec_context.width)
        fps = _stream_fps(stream)
    except InputError:
        raise
    except Exception as exc:  # av raises many types for damaged files
        raise InputError(f"cannot read the video stream of {str(path)!r}: {exc}") from exc
    finally:
        container.close()
    if count <= 0 or h <= 0 or w <= 0:
        raise InputError(f"video {str(path)!r} has no frames (frames={count}, size={w}x{h})")
    if fps <= 0:
        LOGGER.warning("video %s does not state its frame rate; assuming 16 fps", path)
        fps = 16.0
    return VideoInfo(fps=fps, frame_count=count, size_hw=(h, w))


def iter_video_chunks(
    path: PathLike, chunk_size: int = 32, max_frames: int | None = None
) -> Iterator[np.ndarray]:
    """Decode a video as uint8 RGB chunks of shape (t, H, W, 3), t ≤ ``chunk_size``.

    Args:
        path: the video file.
        chunk_size: frames per chunk (the last chunk may be shorter).
        max_frames: stop after this many frames (None: all).

    Raises:
        InputError: missing/unreadable file, a decode error, or a video with zero frames.
    """
    if chunk_size < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
    container = _open_input(path)
    total = 0
    buf: list[np.ndarray] = []
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if max_frames is not None and total >= max_frames:
                    break
                buf.append(frame.to_ndarray(format="rgb24"))
                total += 1
                if len(buf) == chunk_size:
                    yield np.stack(buf)
                    buf = []
        except InputError:
            raise
        except Exception as exc:
            if not total and not buf:
                raise InputError(f"cannot decode any frame of {str(path)!r}: {exc}") from exc
            LOGGER.warning("video %s: decoding stopped after %d frames: %s", path, total, exc)
        if buf:
            yield np.stack(buf)
    finally:
        container.close()
    if total == 0 and max_frames != 0:
        raise InputError(f"video {str(path)!r} has no decodable frames")


def read_video(path: PathLike) -> tuple[np.ndarray, float]:
    """Whole video as (uint8 RGB (T, H, W, 3), fps). For long videos prefer :func:`iter_video_chunks`."""
    info = probe_video(path)
    chunks = list(iter_video_chunks(path, chunk_size=64))
    return np.concatenate(chunks, axis=0), info.fps


def _as_chunks(frames: Iterable[np.ndarray] | np.ndarray) -> Iterator[np.ndarray]:
    if isinstance(frames, np.ndarray):
        yield frames
        return
    yield from frames


def _fps_fraction(fps: float) -> Fraction:
    if not (fps > 0) or not np.isfinite(fps):
        raise InputError(f"write_video: fps must be a positive number, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def write_video(
    path: PathLike,
    frames: Iterable[np.ndarray] | np.ndarray,
    fps: float,
    crf: int = 18,
    odd_size: str = "pad",
) -> Path:
    """Encode uint8 RGB frames as an H.264 (libx264, yuv420p) mp4, atomically.

    Args:
        path: destination ``.mp4``; its folder must exist. Replaced only on success.
        frames: one (T, H, W, 3) uint8 array, or an iterable of (t, H, W, 3) chunks (a bare
            (H, W, 3) item counts as one frame). All frames must share one size.
        fps: frames per second (e.g. 16.0).
        crf: x264 quality (0 lossless … 51 worst; 18 is visually lossless).
        odd_size: yuv420p needs even width and height: ``"pad"`` repeats the last row/column
            (logged), ``"error"`` raises :class:`InputError`.

    Returns:
        The written path.

    Raises:
        InputError: bad shape/dtype, size changes between chunks, no frames, odd size with
            ``odd_size="error"``, or a missing destination folder.
    """
    import av

    if odd_size not in ("pad", "error"):
        raise InputError(f"odd_size must be 'pad' or 'error', got {odd_size!r}")
    dest = Path(path)
    if not dest.parent.is_dir():
        raise InputError(f"write_video: folder {str(dest.parent)!r} does not exist")
    rate = _fps_fraction(float(fps))
    tmp = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:12]}.tmp.mp4")
    written = 0
    size_hw: tuple[int, int] | None = None
    ok = False
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = None
            for chunk in _as_chunks(frames):
                a = as_rgb_chunk(chunk, "write_video")
                if size_hw is None:
                    size_hw = (int(a.shape[1]), int(a.shape[2]))
                    if size_hw[0] % 2 or size_hw[1] % 2:
                        if odd_size == "error":
                            raise InputError(
                                f"write_video: H.264 yuv420p needs even sizes, got "
                                f"{size_hw[1]}x{size_hw[0]} (WxH); crop or pad the frames"
                            )
                        LOGGER.warning(
                            "write_video: padding odd size %dx%d to even", size_hw[1], size_hw[0]
                        )
                    stream = container.add_stream(
                        "libx264", rate=rate, options={"crf": str(int(crf))}
                    )
                    stream.width = size_hw[1] + size_hw[1] % 2
                    stream.height = size_hw[0] + size_hw[0] % 2
                    stream.pix_fmt = "yuv420p"
                elif tuple(a.shape[1:3]) != size_hw:
                    raise InputError(
                        f"write_video: frame size changed from {size_hw} to {a.shape[1:3]} "
                        f"at frame {written}"
                    )
                if size_hw[0] % 2 or size_hw[1] % 2:
                    a = np.pad(
                        a, ((0, 0), (0, size_hw[0] % 2), (0, size_hw[1] % 2), (0, 0)), "edge"
                    )
                for img in a:
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                    for packet in stream.encode(frame):
                        container.mux(packet)
                    written += 1
            if stream is None or written == 0:
                raise InputError("write_video: no frames were given")
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, dest)
        ok = True
    finally:
        if not ok:
            tmp.unlink(missing_ok=True)
    LOGGER.info("wrote %d frames (%s fps) to %s", written, float(rate), dest)
    return dest
