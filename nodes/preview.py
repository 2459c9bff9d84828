"""3D preview node: sends the pose sequence to the in-node three.js viewer (web/js)."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.render import RenderOptions
from ..scail_pose_core.render.style import PALETTES
from . import _preview
from .comfy_types import PoseSequenceIO


class PosePreview3D(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScailPosePreview3D",
            display_name="Preview Poses 3D",
            category="SCAIL-Pose/preview",
            description=(
                "Interactive 3D view of the poses inside the node: drag to orbit, wheel to "
                "zoom, right/shift-drag to pan, timeline to scrub or play, a checkbox per "
                "character; the render camera is drawn as a frustum."
            ),
            inputs=[
                PoseSequenceIO.Input("poses", tooltip="Poses with 3D joints."),
                io.Int.Input(
                    "max_frames",
                    default=300,
                    min=2,
                    max=5000,
                    tooltip="Longer sequences are subsampled evenly for the preview.",
                ),
                io.Combo.Input(
                    "palette",
                    options=list(PALETTES),
                    default=RenderOptions().palette,
                    optional=True,
                    tooltip="Bone colours: set it like Render Skeleton's palette so the "
                    "preview shows the render's colours (auto: single-person colours for one "
                    "person, the two-character tables otherwise).",
                ),
            ],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, poses, max_frames, palette="auto") -> io.NodeOutput:
        payload = _preview.preview_payload(poses, max_frames=max_frames, palette=palette)
        return io.NodeOutput(ui={_preview.UI_KEY: [payload]})


NODES = [PosePreview3D]
