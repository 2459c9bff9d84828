"""Segmentation node: one mask per character through the video (SAM2, or masks you bring)."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.errors import InputError
from ..scail_pose_core.segment import SegmentOptions, masks_from_external, segment_characters
from . import _bridge, _convert
from .comfy_types import CharacterMasksIO, PoseSequenceIO, SAM2ModelIO

EXTERNAL = ("external_mask_1", "external_mask_2", "external_mask_3", "external_mask_4")


class SAM2SegmentCharacters(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = SegmentOptions()
        ext = [
            io.Mask.Input(name, optional=True,
                          tooltip=f"Mask video of character {i} (track id {i - 1}; MASK "
                                  "[frames, H, W]) made by another tool. When any is "
                                  "connected, SAM2 is not used and characters follow these "
                                  "inputs' order.")
            for i, name in enumerate(EXTERNAL, start=1)
        ]  # fmt: skip
        return io.Schema(
            node_id="ScailPoseSAM2SegmentCharacters",
            display_name="Segment Characters (SAM2)",
            category="SCAIL-Pose/segment",
            description=(
                "Chooses the characters on the first frame with someone in it (largest first) "
                "and tracks one mask per character through the video with SAM 2.1. Or pass "
                "your own per-character MASK videos instead."
            ),
            inputs=[
                io.Image.Input("images", tooltip="The video frames (the ones poses came from)."),
                PoseSequenceIO.Input("poses", tooltip="From Detect Poses (people = all): "
                                                      "prompts for SAM2."),
                SAM2ModelIO.Input("sam2_model", optional=True,
                                  tooltip="From Load SAM2 Model; not needed with external "
                                          "masks."),
                io.Int.Input("max_characters", default=d.max_characters, min=1, max=8,
                             tooltip="The N largest people become characters (reference 2)."),
                io.Int.Input("chunk_size", default=d.chunk_size, min=1, max=512,
                             tooltip="Frames per SAM2 propagation chunk (memory bound)."),
                *ext,
            ],
            outputs=[
                CharacterMasksIO.Output("character_masks", display_name="character_masks",
                                        tooltip="Per-character masks, for Lift Poses to 3D."),
                io.Mask.Output("mask", display_name="mask", tooltip="Union of all characters' masks per frame."),
            ],
        )  # fmt: skip

    @classmethod
    def execute(cls, images, poses, max_characters, chunk_size, sam2_model=None,
                external_mask_1=None, external_mask_2=None, external_mask_3=None,
                external_mask_4=None) -> io.NodeOutput:  # fmt: skip
        ext = (external_mask_1, external_mask_2, external_mask_3, external_mask_4)
        given = [
            _convert.mask_to_bool(m, k) for k, m in zip(EXTERNAL, ext, strict=True) if m is not None
        ]
        n, (h, w) = int(images.shape[0]), _convert.frame_size(images)
        if given:
            masks = masks_from_external(given, size_hw=(h, w), num_frames=n)
        elif sam2_model is None:
            raise InputError("Segment Characters: connect a SAM2 model (Load SAM2 Model) or "
                             "at least one external mask.")  # fmt: skip
        else:
            options = SegmentOptions(max_characters=max_characters, chunk_size=chunk_size)
            masks = segment_characters(
                _convert.image_to_uint8(images), list(poses.frames), sam2_model.model, options,
                progress=_bridge.progress(n), check_cancel=_bridge.check_cancel,
            )  # fmt: skip
        return io.NodeOutput(masks, _convert.bool_to_mask(masks.masks.any(axis=1)))


NODES = [SAM2SegmentCharacters]
