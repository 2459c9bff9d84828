"""Multi-character segmentation and extraction (reference_spec.md §7, with its bugs fixed).

* :func:`segment_characters`: choose characters (N largest people, explicit indices, later
  entries) and track one mask per character per frame with SAM 2.1 (:class:`Sam2Segmenter`;
  ``sam2`` is imported only when used).
* :func:`masks_from_external`: per-character masks from any other source (e.g. ComfyUI's SAM3
  video nodes) instead of SAM2.
* :func:`extract_characters`: per-character masked video → NLF → one 3D slot per character
  (``track_ids`` = character ids), 2D people assigned to characters by mask overlap.
"""

from __future__ import annotations

from .extract import BACKGROUND_RGB, ExtractOptions, extract_characters, masked_frame
from .masks import (
    CharacterMasks,
    SegmentOptions,
    masks_from_external,
    relabel_instances,
    segment_characters,
)
from .prompts import CharacterPrompt, choose_characters
from .sam2 import INSTALL_HINT, SAM2_SIZES, Sam2Segmenter

__all__ = [
    "BACKGROUND_RGB",
    "INSTALL_HINT",
    "SAM2_SIZES",
    "CharacterMasks",
    "CharacterPrompt",
    "ExtractOptions",
    "Sam2Segmenter",
    "SegmentOptions",
    "choose_characters",
    "extract_characters",
    "masked_frame",
    "masks_from_external",
    "relabel_instances",
    "segment_characters",
]
