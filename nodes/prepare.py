"""Frame preparation node: the reference's resize + centre crop to SCAIL's resolution."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.geometry.crop import DEFAULT_RESOLUTION, plan_resize_crop, target_size_for
from ..scail_pose_core.media import resize_crop
from . import _convert


class ResizeCrop(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        short, long = DEFAULT_RESOLUTION
        return io.Schema(
            node_id="ScailPoseResizeCrop",
            display_name="Resize & Crop for SCAIL",
            category="SCAIL-Pose/prepare",
            description=(
                "Resizes to cover the target and centre-crops, as the reference does: landscape "
                "videos become long x short (896x512), portrait or square short x long. Use the "
                "same target for the driving video and the reference image (match_to)."
            ),
            inputs=[
                io.Image.Input("images", tooltip="Frames or an image to resize and crop."),
                io.Int.Input("short_side", default=short, min=64, max=4096, step=32,
                             tooltip="Target short side in pixels (multiple of 32)."),
                io.Int.Input("long_side", default=long, min=64, max=4096, step=32,
                             tooltip="Target long side in pixels (multiple of 32)."),
                io.Image.Input("match_to", optional=True,
                               tooltip="Take the orientation from these frames (connect the "
                                       "driving video when resizing the reference image)."),
            ],
            outputs=[
                io.Image.Output("resized", display_name="images", tooltip="Resized and cropped frames."),
                io.Int.Output("width", display_name="width", tooltip="Output width in pixels."),
                io.Int.Output("height", display_name="height", tooltip="Output height in pixels."),
            ],
        )  # fmt: skip

    @classmethod
    def execute(cls, images, short_side, long_side, match_to=None) -> io.NodeOutput:
        source = match_to if match_to is not None else images
        th, tw = target_size_for(_convert.frame_size(source), (short_side, long_side))
        geom = plan_resize_crop(_convert.frame_size(images), (th, tw))
        out = resize_crop(_convert.image_to_uint8(images), geom)
        return io.NodeOutput(_convert.uint8_to_image(out), tw, th)


NODES = [ResizeCrop]
