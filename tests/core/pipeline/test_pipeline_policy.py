"""Frame-count policy (reference_spec.md §8), options validation, chunk selection."""

from __future__ import annotations

import numpy as np
import pytest

from scail_pose_core.errors import InputError
from scail_pose_core.pipeline import (
    PipelineOptions,
    _select_in_chunk,
    frame_indices_for_policy,
    open_video_source,
)


def test_policy_none_keeps_every_frame() -> None:
    assert frame_indices_for_policy(7).tolist() == list(range(7))
    assert frame_indices_for_policy(2000).shape == (2000,)


def test_policy_none_rejects_zero_frames() -> None:
    with pytest.raises(InputError, match="no frames"):
        frame_indices_for_policy(0)


@pytest.mark.parametrize("n", [1, 30, 64])
def test_reference_api_rejects_short_clips(n: int) -> None:
    with pytest.raises(InputError, match="at least 65"):
        frame_indices_for_policy(n, "reference_api")


def test_reference_api_65_to_80_samples_65_evenly() -> None:
    assert frame_indices_for_policy(65, "reference_api").tolist() == list(range(65))
    idx = frame_indices_for_policy(80, "reference_api")
    assert idx.shape == (65,)
    assert idx[0] == 0 and idx[-1] == 79
    # int(linspace(0, 79, 65)): truncation, e.g. the second sample is int(79/64) = 1
    assert idx.tolist() == [int(v) for v in np.linspace(0, 79, 65)]
    assert np.all(np.diff(idx) >= 1)


def test_reference_api_81_to_95_keeps_the_first_81() -> None:
    for n in (81, 90, 95):
        assert frame_indices_for_policy(n, "reference_api").tolist() == list(range(81))


def test_reference_api_96_and_more_samples_81_evenly() -> None:
    idx = frame_indices_for_policy(96, "reference_api")
    assert idx.shape == (81,) and idx[0] == 0 and idx[-1] == 95
    idx = frame_indices_for_policy(2000, "reference_api")
    assert idx.shape == (81,) and idx[-1] == 1999
    assert idx[40] == int(1999 * 40 / 80)


def test_unknown_policy_is_an_input_error() -> None:
    with pytest.raises(InputError, match="reference_api"):
        frame_indices_for_policy(100, "bogus")


def test_select_in_chunk_maps_global_indices() -> None:
    chunk = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    keep = np.array([0, 3, 12, 15, 19, 25])
    sel, n = _select_in_chunk(chunk, 10, keep)  # source frames 10..19
    assert n == 3 and sel[:, 0, 0, 0].tolist() == [2, 5, 9]
    sel, n = _select_in_chunk(chunk, 30, keep)
    assert n == 0 and sel.shape[0] == 0
    sel, n = _select_in_chunk(chunk, 0, None)
    assert n == 10 and sel is chunk


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"retarget": "align"}, "retarget"),
        ({"output_size": "quarter"}, "output_size"),
        ({"frames_4n1": "yes"}, "frames_4n1"),
        ({"frame_count_policy": "api"}, "frame_count_policy"),
        ({"resolution": (511, 896)}, "resolution"),
        ({"fps": 0}, "fps"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"crop": "stretch"}, "crop"),
    ],
)
def test_options_reject_bad_values(kwargs: dict, word: str) -> None:
    with pytest.raises(InputError, match=word):
        PipelineOptions(**kwargs)


def test_options_defaults_match_the_reference_cli() -> None:
    o = PipelineOptions()
    assert o.resolution == (512, 896) and o.fps == 16.0 and o.retarget == "none"
    assert o.output_size == "full" and o.frames_4n1 == "none" and not o.multi
    assert not o.uses_native_size()
    assert PipelineOptions(multi=True).uses_native_size()  # §7: native size
    assert not PipelineOptions(multi=True, crop="target").uses_native_size()


def test_video_source_from_arrays_and_chunks() -> None:
    frames = np.zeros((5, 8, 12, 3), np.uint8)
    src = open_video_source(frames)
    assert src.size_hw == (8, 12) and src.frame_count == 5
    assert [c.shape[0] for c in src.chunks(2)] == [2, 2, 1]
    src = open_video_source(iter([frames[:3], frames[3:]]))
    assert src.frame_count == 0 and sum(c.shape[0] for c in src.chunks(2)) == 5
    with pytest.raises(InputError, match="zero frames"):
        open_video_source(np.zeros((0, 8, 12, 3), np.uint8))
    with pytest.raises(InputError, match="uint8"):
        open_video_source(np.zeros((2, 8, 12, 3), np.float32))
    with pytest.raises(InputError, match="no frames"):
        open_video_source(iter([]))
