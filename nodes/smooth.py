"""Smoothing node: remove 3D jitter and outliers (off in the reference, opt-in here)."""

from __future__ import annotations

from comfy_api.latest import io

from ..scail_pose_core.lift3d import SmoothOptions, smooth_sequence
from .comfy_types import PoseSequenceIO


class SmoothPoses(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        d = SmoothOptions()
        return io.Schema(
            node_id="ScailPoseSmoothPoses",
            display_name="Smooth 3D Poses",
            category="SCAIL-Pose/lift3d",
            description=(
                "Rejects outlier joints (Hampel filter), fills short gaps and low-pass filters "
                "the 3D joints over time (speed-adaptive, little lag in fast motion)."
            ),
            inputs=[
                PoseSequenceIO.Input("poses", tooltip="Poses with 3D joints."),
                io.Boolean.Input("reject_outliers", default=d.reject_outliers,
                                 tooltip="Drop joints far from their neighbours in time."),
                io.Int.Input("max_gap", default=d.max_gap, min=0, max=120,
                             tooltip="Longest run of missing frames filled by interpolation."),
                io.Float.Input("min_cutoff_hz", default=d.min_cutoff_hz, min=0.01, max=30.0,
                               step=0.05, tooltip="Cutoff at rest (Hz); lower = smoother."),
                io.Float.Input("beta", default=d.beta, min=0.0, max=1.0, step=0.001,
                               tooltip="Cutoff increase with speed; higher = less lag."),
            ],
            outputs=[PoseSequenceIO.Output("smoothed", display_name="poses", tooltip="Smoothed poses.")],
        )  # fmt: skip

    @classmethod
    def execute(cls, poses, reject_outliers, max_gap, min_cutoff_hz, beta) -> io.NodeOutput:
        options = SmoothOptions(enabled=True, reject_outliers=reject_outliers, max_gap=max_gap,
                                min_cutoff_hz=min_cutoff_hz, beta=beta)  # fmt: skip
        return io.NodeOutput(smooth_sequence(poses, options))


NODES = [SmoothPoses]
