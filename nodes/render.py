"""Render node: 3D poses -> SCAIL's cylinder-skeleton video (IMAGE + MASK + frame count)."""

from __future__ import annotations

from comfy_api.latest import io, ui

from ..scail_pose_core.errors import InputError
from ..scail_pose_core.render import RenderOptions, render_sequence
from ..scail_pose_core.render.api import BACKENDS
from ..scail_pose_core.render.output import FRAMES_4N1, OUTPUT_SIZES
from ..scail_pose_core.render.style import PALETTES
from . import _bridge, _convert
from .comfy_types import PoseSequenceIO


def _size_problem(width: int, height: int) -> str | None:
    for name, v in (("width", width), ("height", height)):
        if v and v % 32:
            return (f"{name}={v} is not a multiple of 32 (SCAIL/Wan need it): use "
                    f"{v // 32 * 32} or {(v // 32 + 1) * 32}, or 0 for the poses' own size.")  # fmt: skip
    return None


class RenderSkeleton(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = RenderOptions()
        return io.Schema(
            node_id="ScailPoseRenderSkeleton",
            display_name="Render SCAIL Skeleton",
            category="SCAIL-Pose/render",
            description=(
                "Renders the 3D poses as SCAIL's shaded cylinder skeleton (plus 2D face/hands) "
                "in the poses' camera: the pose video for WanVideoAddSCAILPoseEmbeds "
                "(pose_images, half size) or WanSCAILToVideo (pose_video)."
            ),
            inputs=[
                PoseSequenceIO.Input("poses", tooltip="Poses with 3D joints (after Lift, "
                                                      "Retarget or Smooth)."),
                io.Int.Input("width", default=0, min=0, max=8192, step=32,
                             tooltip="Generation width (multiple of 32). Must match the poses' "
                                     "frame width; 0 = take it from the poses."),
                io.Int.Input("height", default=0, min=0, max=8192, step=32,
                             tooltip="Generation height (multiple of 32). Must match the poses' "
                                     "frame height; 0 = take it from the poses."),
                io.Combo.Input("output_size", options=list(OUTPUT_SIZES), default=d.output_size,
                               tooltip="half = width/2 x height/2, what WanVideoWrapper's SCAIL "
                                       "pose embeds expect; full = the reference's size "
                                       "(core WanSCAILToVideo halves it itself)."),
                io.Combo.Input("frames_4n1", options=list(FRAMES_4N1), default=d.frames_4n1,
                               tooltip="Make the frame count 4n+1 (Wan's VAE): trim drops the "
                                       "last frames, pad repeats the last one."),
                io.Boolean.Input("draw_2d", default=d.draw_2d,
                                 tooltip="Draw the 2D face and hands over the 3D skeleton (the "
                                         "reference does)."),
                io.Combo.Input("palette", options=list(PALETTES), default=d.palette,
                               tooltip="auto: single-person colours for one character, the "
                                       "two-character palettes otherwise."),
                io.Combo.Input("backend", options=list(BACKENDS), default=d.backend,
                               tooltip="auto = nvdiffrast when installed and on a GPU, else the "
                                       "built-in torch renderer."),
            ],
            outputs=[
                io.Image.Output("images", display_name="images", tooltip="Pose video, RGB on black, [frames, H, W, 3]."),
                io.Mask.Output("mask", display_name="mask", tooltip="Where the 3D skeleton was drawn (alpha > 0), [frames, H, W]; the 2D "
                                              "face/hands overlay is not part of it."),
                io.Int.Output("frame_count", display_name="frame_count", tooltip="Frames rendered (for num_frames / length)."),
            ],
        )  # fmt: skip

    @classmethod
    def validate_inputs(cls, width, height) -> bool | str:
        return _size_problem(width or 0, height or 0) or True

    @classmethod
    def execute(cls, poses, width, height, output_size, frames_4n1, draw_2d, palette,
                backend) -> io.NodeOutput:  # fmt: skip
        h, w = poses.size_hw
        if (width and width != w) or (height and height != h):
            raise InputError(
                f"Render: generation size {width or w}x{height or h} differs from the poses' "
                f"frame size {w}x{h}. Resize & Crop the video to {width or w}x{height or h} "
                "before Detect Poses, or set width/height to 0."
            )
        options = RenderOptions(backend=backend, device=_bridge.device(), output_size=output_size,
                                frames_4n1=frames_4n1, draw_2d=draw_2d, palette=palette)  # fmt: skip
        res = render_sequence(poses, options, progress=_bridge.progress(len(poses)),
                              check_cancel=_bridge.check_cancel)  # fmt: skip
        preview = res.images[_convert.pick_preview_frames(res.frame_count)]
        return io.NodeOutput(res.images, res.mask, res.frame_count,
                             ui=ui.PreviewImage(preview, cls=cls))  # fmt: skip


NODES = [RenderSkeleton]
