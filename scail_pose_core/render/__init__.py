"""RenderSkeleton core: the reference cylinder look (torch / nvdiffrast), 2D overlay, outputs.

Public API:
    RenderOptions, RenderResult, render_sequence, render_rgba, iter_render_rgba,
    export_glb, available_backends.
Lower level (tests, goldens): scene.sequence_capsules, depth.depth_constants,
    api.render_capsule_frames, draw2d.draw_overlay / composite_overlay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .depth import DepthConstants, depth_constants
from .glb import export_glb
from .scene import FrameCapsules, sequence_capsules

if TYPE_CHECKING:
    from .api import (
        RenderOptions,
        RenderResult,
        available_backends,
        iter_render_rgba,
        render_capsule_frames,
        render_rgba,
        render_sequence,
    )

# The renderer itself needs torch; it is imported on first use so that importing the package
# (the CLI's --help, the pipeline's option checks, the scene/GLB code) stays light.
_API_NAMES = frozenset(
    {
        "RenderOptions",
        "RenderResult",
        "available_backends",
        "iter_render_rgba",
        "render_capsule_frames",
        "render_rgba",
        "render_sequence",
    }
)


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DepthConstants",
    "FrameCapsules",
    "RenderOptions",
    "RenderResult",
    "available_backends",
    "depth_constants",
    "export_glb",
    "iter_render_rgba",
    "render_capsule_frames",
    "render_rgba",
    "render_sequence",
    "sequence_capsules",
]
