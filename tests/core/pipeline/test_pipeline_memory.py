"""Memory of the single job's extraction: compact pose data, heap trimmed between chunks.

The long-video benchmark (benchmarks/bench_pipeline.py) measures the RSS slope; these tests pin
the two mechanisms that keep it flat: the stored pose data owns small per-frame arrays (no views
into chunk-sized model outputs), and glibc's free heap pages are handed back after every chunk.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from pipeline_helpers import cached_models, figure_frames

from scail_pose_core import pipeline
from scail_pose_core.pipeline import PipelineOptions, run_single

SIZE = (128, 224)


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _arrays(obj: object):
    if isinstance(obj, np.ndarray):
        yield obj
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            yield from _arrays(getattr(obj, name))
    elif isinstance(obj, list | tuple):
        for x in obj:
            yield from _arrays(x)


def test_pose_data_does_not_reference_chunk_buffers() -> None:
    """Every stored array's memory owner is per-frame sized, a few kB per frame in total.

    A view into a chunk's model output (e.g. DWPose's (t, P, 133, 2) keypoints or NLF's
    (t, 24, 3) batch) would keep the whole buffer alive: its owner would hold ≥ 16 frames.
    """
    models = cached_models(SIZE)
    res = run_single(
        figure_frames(32, SIZE, blank=(5,)),
        None,
        models,
        PipelineOptions(resolution=SIZE, chunk_size=16, device="cpu"),
    )
    frames = res.sequence.frames
    assert len(frames) == 32 and frames[0].pose3d.num_people == 1
    roots = {id(_root(a)): _root(a) for a in _arrays(list(frames))}
    biggest = max(r.nbytes for r in roots.values())
    # one person's 134 OpenPose points in float64 (2,144 B) is the largest per-frame array
    assert biggest <= 4096, biggest
    per_frame = sum(r.nbytes for r in roots.values()) / len(frames)
    assert per_frame < 8192, per_frame  # measured ≈ 3 kB (boxes, 2D, 3D of one person)


def test_heap_is_trimmed_after_every_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(pipeline, "_release_free_heap", lambda: calls.append(1))
    models = cached_models(SIZE)
    run_single(
        figure_frames(10, SIZE),
        None,
        models,
        PipelineOptions(resolution=SIZE, chunk_size=4, device="cpu"),
    )
    assert len(calls) == 3  # chunks of 4, 4 and 2 frames


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_release_free_heap_returns_freed_heap_pages() -> None:
    """The glibc pattern behind the extraction's RSS growth, and the trim that undoes it.

    Freeing a 24 MB mmapped block raises glibc's mmap threshold to 24 MB, so the following 4 MB
    arrays come from the heap. Freeing every other one leaves ~100 MB of free pages between
    live blocks: glibc keeps them resident (it only trims the top of the heap by itself) until
    ``malloc_trim`` hands them back.
    """
    pipeline._release_free_heap()
    if pipeline._MALLOC_TRIM is None:
        pytest.skip("not glibc: no malloc_trim")
    big = np.ones(24 * 2**20, np.uint8)
    del big
    blocks = [np.ones(2**19) for _ in range(50)]  # 50 × 4 MB, touched
    before = _rss_mb()
    del blocks[::2]
    after_free = _rss_mb()
    pipeline._release_free_heap()
    after_trim = _rss_mb()
    assert sum(float(b[0]) for b in blocks) == 25.0
    assert before - after_free < 30, (before, after_free, after_trim)
    assert after_free - after_trim > 70, (before, after_free, after_trim)
