"""Retarget node: fit the driving poses to the character of the reference image."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.errors import InputError
from ..scail_pose_core.retarget import MODES, RetargetOptions, retarget
from .comfy_types import PoseSequenceIO


class Retarget3D(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = RetargetOptions()
        return io.Schema(
            node_id="ScailPoseRetarget3D",
            display_name="Retarget Poses to Reference",
            category="SCAIL-Pose/retarget",
            description=(
                "Adapts the driving poses to the reference character: camera_fit fits a new "
                "render camera so the skeleton lands on the reference's body (the reference's "
                "alignment); bone_lengths rescales the 3D bones to the reference's proportions."
            ),
            inputs=[
                PoseSequenceIO.Input("poses", tooltip="Driving poses with 3D (Lift Poses to 3D)."),
                PoseSequenceIO.Input("reference", tooltip="Poses of the reference image (Detect "
                                                          "+ Lift on it), same size as the video."),
                io.Combo.Input("mode", options=list(MODES), default=d.mode,
                               tooltip="none: unchanged; camera_fit: the reference's alignment; "
                                       "bone_lengths: reference bone lengths."),
                io.Boolean.Input("guardrails", default=d.guardrails,
                                 tooltip="Fall back to the unaligned camera when the fit looks "
                                         "wrong (large error, parameters stuck on a bound)."),
            ],
            outputs=[PoseSequenceIO.Output("retargeted", display_name="poses", tooltip="Retargeted poses (report in meta).")],
        )  # fmt: skip

    @classmethod
    def execute(cls, poses, reference, mode, guardrails) -> io.NodeOutput:
        if tuple(reference.size_hw) != tuple(poses.size_hw) or len(reference) == 0:
            raise InputError(
                f"Retarget: the reference was measured at {reference.size_hw[1]}x"
                f"{reference.size_hw[0]} ({len(reference)} frames) but the video at "
                f"{poses.size_hw[1]}x{poses.size_hw[0]}. Resize & Crop the reference image to "
                "the video's size (connect the video to its match_to input)."
            )
        options = RetargetOptions(mode=mode, guardrails=guardrails)
        return io.NodeOutput(retarget(poses, reference.frames[0], options))


NODES = [Retarget3D]
