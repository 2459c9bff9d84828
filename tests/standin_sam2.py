"""SAM 2.1 stand-ins for tests: the tiny model from its shipped config with random weights.

``sam2`` (1.1.0, installed with ``--no-build-isolation --no-deps``) ships the configs; no
checkpoint can be downloaded here, so tests build the real network with random weights
(environment_notes.md §2): a few seconds on CPU at image_size 256.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest


def sam2_missing_reason() -> str | None:
    """None when ``sam2`` imports, else why it does not (for ``pytest.skip``)."""
    try:
        import sam2.build_sam  # noqa: F401
        import sam2.sam2_video_predictor  # noqa: F401
    except Exception as e:  # noqa: BLE001 - any import failure means "not usable"
        return f"sam2 is not importable ({e}); install it as in .ci/run"
    return None


def require_sam2() -> None:
    """Skip the calling test with a reason when ``sam2`` is not installed."""
    reason = sam2_missing_reason()
    if reason:
        pytest.skip(reason)


@functools.lru_cache(maxsize=4)
def tiny_segmenter(image_size: int = 256, seed: int = 0, short_memory: bool = False):
    """A cached :class:`Sam2Segmenter` (tiny SAM 2.1, random weights, CPU).

    ``short_memory`` shrinks the memory bank (3 mask memories, 4 object pointers) so that a
    short clip already exceeds the memory window (tests of the pruning).
    """
    require_sam2()
    from scail_pose_core.segment import Sam2Segmenter

    extra = ("++model.num_maskmem=3", "++model.max_obj_ptrs_in_encoder=4") if short_memory else ()
    return Sam2Segmenter.random_weights(
        "tiny", image_size=image_size, device="cpu", seed=seed, hydra_overrides=extra
    )


def save_random_checkpoint(path: Path, size: str = "tiny", seed: int = 0) -> Path:
    """Write a SAM 2.1 checkpoint ``{"model": state_dict}`` with random weights (~156 MB tiny)."""
    import torch

    from scail_pose_core.segment import Sam2Segmenter

    seg = Sam2Segmenter.random_weights(size, image_size=1024, device="cpu", seed=seed)
    torch.save({"model": seg.predictor.state_dict()}, path)
    return path
