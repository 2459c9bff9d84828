"""Capsule palettes of the 3D skeleton (reference_spec.md §5.1 and §7) and their render colours.

Palettes are tables of 13 base colours (RGB 0–255) for limbs 0–12. The renderer uses
``c/300 + 0.15`` per channel with alpha 0.8, computed in float64 and handed over as float32,
exactly as the reference.

Palette names (``RenderOptions.palette``):

* ``"single"``: every person uses the single-person table of ``render_nlf_as_images``.
* ``"multi"``: character 0 and character 1 use the two tables of ``render_multi_nlf_as_images``
  bit for bit. The reference stops at two characters; our policy for character k ≥ 2 is
  documented in :func:`character_base_colors`.
* ``"auto"``: ``"single"`` when no frame of the sequence holds more than one 3D person, else
  ``"multi"``.

A *character* is a person's identity: its track id when one is assigned (≥ 0), else its slot
index inside the frame (the reference's person order).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op

PALETTES = ("auto", "single", "multi")
#: Base colours of limbs 0–12 for the single-person look.
SINGLE_BASE: tuple[tuple[int, int, int], ...] = tuple(op.LIMB_COLORS_SINGLE[:13])
#: Darkening factor per pair of extra characters (policy for the 3rd+ character).
EXTRA_CHARACTER_FACTOR = 0.7


def character_base_colors(character: int, palette: str) -> tuple[tuple[int, int, int], ...]:
    """Base colours (RGB 0–255) of limbs 0–12 for one character.

    Policy for the third and later characters (``palette="multi"``, character k ≥ 2): the
    table of character ``k % 2`` (pastel for even, saturated for odd), each channel multiplied
    by ``0.7 ** (k // 2)`` and rounded. Limb hues — which tell the model left from right —
    stay those the model was trained on; identities differ by tint (pastel vs saturated) and
    brightness (each further pair is darker: ×0.7, ×0.49, ×0.343, …). Characters 0 and 1 are
    exactly the reference's tables. Beyond about six characters the darker tables become hard
    to tell apart; SCAIL itself was only trained with up to two.

    Args:
        character: identity index ≥ 0.
        palette: ``"single"`` or ``"multi"`` (``"auto"`` must be resolved first).
    """
    if palette == "single":
        return SINGLE_BASE
    if palette != "multi":
        raise InputError(f"palette must be 'single' or 'multi' here, got {palette!r}")
    if character < 0:
        raise InputError(f"character index must be >= 0, got {character}")
    base = op.LIMB_COLORS_MULTI_0 if character % 2 == 0 else op.LIMB_COLORS_MULTI_1
    if character < 2:
        return tuple(base)
    f = EXTRA_CHARACTER_FACTOR ** (character // 2)
    return tuple(tuple(int(round(c * f)) for c in rgb) for rgb in base)  # type: ignore[misc]


def render_colors(base: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """(13, 4) float32 RGBA render colours: c/300 + 0.15 in float64, alpha 0.8, cast to float32."""
    rgba = [op.render_color(rgb) for rgb in base]
    return np.asarray(rgba, dtype=np.float64).astype(np.float32)


def character_render_colors(character: int, palette: str) -> np.ndarray:
    """(13, 4) float32 RGBA of limbs 0–12 for ``character`` under ``palette`` (resolved)."""
    return render_colors(character_base_colors(character, palette))


def resolve_palette(palette: str, max_people: int) -> str:
    """Resolve ``"auto"``: ``"multi"`` when some frame has ≥ 2 people in 3D, else ``"single"``."""
    if palette not in PALETTES:
        raise InputError(f"palette must be one of {PALETTES}, got {palette!r}")
    if palette == "auto":
        return "multi" if max_people >= 2 else "single"
    return palette
