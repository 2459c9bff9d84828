"""3D stage node: NLF lifts the detected people (box 0 or all) or every character mask to SMPL-24."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.lift3d import LiftOptions, lift_full_frames, lift_to_3d
from ..scail_pose_core.segment import ExtractOptions, extract_characters
from ..scail_pose_core.types import Detections, PoseFrame, PoseSequence
from . import _bridge, _convert, _sequence
from .comfy_types import CharacterMasksIO, NLFModelIO, PoseSequenceIO

#: Which detected people get 3D: "first" = box 0 of each frame only (the reference's
#: single-person job, reference_spec.md §1.4: every person keeps its 2D, only person 0 is lifted
#: and rendered, like the one-shot pipeline's first-box-only extraction); "all" = every box.
PEOPLE_3D = ("first", "all")
DEFAULT_PEOPLE_3D = "first"


def _first_box(det: Detections | None) -> Detections:
    """Box 0 (the best-scoring person) of a frame's detections, or none."""
    if det is None:
        return Detections.empty()
    return Detections(det.boxes_xyxy[:1], det.scores[:1])


class NLF3DLift(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = LiftOptions()
        return io.Schema(
            node_id="ScailPoseNLF3DLift",
            display_name="Lift Poses to 3D (NLF)",
            category="SCAIL-Pose/lift3d",
            description=(
                "Runs NLF on the person boxes found by Detect Poses (box 0 only, or all) and "
                "adds SMPL-24 3D joints (camera millimetres); the 2D poses of every person are "
                "kept. With character masks it lifts each masked character and keeps its "
                "identity across frames. Without poses, NLF's own detector is used."
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
                io.Combo.Input("people_3d", options=list(PEOPLE_3D), default=DEFAULT_PEOPLE_3D,
                               optional=True,
                               tooltip="first: lift only the best-scoring person (box 0) of "
                                       "each frame, the reference single-person job (every "
                                       "person's 2D face/hands stay drawn); all: lift every "
                                       "detected person. Ignored with character masks (each "
                                       "character is lifted)."),
            ],
            outputs=[PoseSequenceIO.Output("poses_3d", display_name="poses", tooltip="Poses with 3D joints added.")],
        )  # fmt: skip

    @classmethod
    def execute(cls, nlf_model, images, batch_size, poses=None, character_masks=None,
                people_3d=DEFAULT_PEOPLE_3D):  # fmt: skip
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
            dets = [_first_box(f.detections) if people_3d == "first" else
                    Detections.empty() if f.detections is None else f.detections
                    for f in poses.frames]  # fmt: skip
            lifted = lift_to_3d(frames, dets, nlf_model.model, options, **report)
            seq = _sequence.with_pose3d(poses, lifted)
        else:
            lifted = lift_full_frames(frames, nlf_model.model, options, **report)
            if people_3d == "first":  # NLF's own first detection per frame
                lifted = [p.select([0]) if p.num_people else p for p in lifted]
            seq = PoseSequence(tuple(PoseFrame(pose3d=p) for p in lifted),
                               size_hw=_convert.frame_size(images))  # fmt: skip
        return io.NodeOutput(seq)


NODES = [NLF3DLift]
