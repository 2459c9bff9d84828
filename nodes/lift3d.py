"""3D stage node: NLF lifts every detected person (or every character mask) to SMPL-24."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.lift3d import LiftOptions, lift_full_frames, lift_to_3d
from ..scail_pose_core.segment import ExtractOptions, extract_characters
from ..scail_pose_core.types import Detections, PoseFrame, PoseSequence
from . import _bridge, _convert, _sequence
from .comfy_types import CharacterMasksIO, NLFModelIO, PoseSequenceIO


class NLF3DLift(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = LiftOptions()
        return io.Schema(
            node_id="ScailPoseNLF3DLift",
            display_name="Lift Poses to 3D (NLF)",
            category="SCAIL-Pose/lift3d",
            description=(
                "Runs NLF on every person box found by Detect Poses and adds SMPL-24 3D joints "
                "(camera millimetres). With character masks it lifts each masked character and "
                "keeps its identity across frames. Without poses, NLF's own detector is used."
            ),
            inputs=[
                NLFModelIO.Input("nlf_model", tooltip="From Load NLF Model."),
                io.Image.Input("images", tooltip="The same frames the poses were detected on."),
                PoseSequenceIO.Input("poses", optional=True,
                                     tooltip="From Detect Poses. Not connected: NLF detects "
                                             "people itself (no 2D face/hands then)."),
                CharacterMasksIO.Input("character_masks", optional=True,
                                       tooltip="From Segment Characters: lift each character "
                                               "inside its mask, with stable identities."),
                io.Int.Input("batch_size", default=d.batch_size, min=1, max=256,
                             tooltip="Images per NLF call; lower it if the GPU runs out of "
                                     "memory. Results do not depend on it."),
            ],
            outputs=[PoseSequenceIO.Output("poses_3d", display_name="poses", tooltip="Poses with 3D joints added.")],
        )  # fmt: skip

    @classmethod
    def execute(cls, nlf_model, images, batch_size, poses=None, character_masks=None):
        options = LiftOptions(batch_size=batch_size)
        report = dict(progress=_bridge.progress(images.shape[0]), check_cancel=_bridge.check_cancel)
        frames = _convert.iter_uint8_chunks(images)
        if character_masks is not None:
            fps = poses.fps if poses is not None else ExtractOptions().fps
            pose_frames = None if poses is None else list(poses.frames)
            seq = extract_characters(_convert.image_to_uint8(images), character_masks,
                                     pose_frames, nlf_model.model,
                                     ExtractOptions(fps=fps, lift=options), **report)  # fmt: skip
        elif poses is not None:
            _sequence.check_frames_match(poses, images, "Lift Poses to 3D")
            dets = [Detections.empty() if f.detections is None else f.detections
                    for f in poses.frames]  # fmt: skip
            lifted = lift_to_3d(frames, dets, nlf_model.model, options, **report)
            seq = _sequence.with_pose3d(poses, lifted)
        else:
            lifted = lift_full_frames(frames, nlf_model.model, options, **report)
            seq = PoseSequence(tuple(PoseFrame(pose3d=p) for p in lifted),
                               size_hw=_convert.frame_size(images))  # fmt: skip
        return io.NodeOutput(seq)


NODES = [NLF3DLift]
