"""A built-in procedural motion for ``python -m scail_pose_core demo``: no weights, no download.

:func:`demo_motion` animates an SMPL-24 skeleton by forward kinematics (fixed bone lengths of an
adult of about 1.7 m, so every frame is a plausible body) and places it in front of the
reference FOV-55 camera (camera-space millimetres, OpenCV axes: +x right, +y down, +z forward).
The dancer faces the camera, bounces on bent knees, sways, turns a little and waves both arms.
A light 2D layer is added as well (eyes/ears, face and hands projected from the skeleton) so
the demo shows the same kind of picture as the real pipeline: the 3D capsules plus the 2D
face/hand overlay.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError
from .skeletons import openpose as op
from .skeletons import smpl
from .types import Camera, Pose2D, Pose3D, PoseFrame, PoseSequence

#: Rest offsets of each SMPL-24 joint from its parent (mm), body frame = camera axes for a
#: person facing the camera: +x is the image's right (= the person's left), +y down, +z away.
#: Arms hang down, feet point towards the camera.
_REST_OFFSETS_MM: np.ndarray = np.array(
    [
        [0, 0, 0],  # 0 pelvis (root)
        [85, 80, 0],  # 1 l_hip
        [-85, 80, 0],  # 2 r_hip
        [0, -110, 0],  # 3 spine1
        [0, 410, 0],  # 4 l_knee
        [0, 410, 0],  # 5 r_knee
        [0, -135, 0],  # 6 spine2
        [0, 400, 0],  # 7 l_ankle
        [0, 400, 0],  # 8 r_ankle
        [0, -55, 0],  # 9 spine3
        [0, 60, -120],  # 10 l_foot
        [0, 60, -120],  # 11 r_foot
        [0, -215, 0],  # 12 neck
        [70, -120, 0],  # 13 l_collar
        [-70, -120, 0],  # 14 r_collar
        [0, -110, 0],  # 15 head
        [115, 25, 0],  # 16 l_shoulder
        [-115, 25, 0],  # 17 r_shoulder
        [0, 265, 0],  # 18 l_elbow
        [0, 265, 0],  # 19 r_elbow
        [0, 250, 0],  # 20 l_wrist
        [0, 250, 0],  # 21 r_wrist
        [0, 85, 0],  # 22 l_hand
        [0, 85, 0],  # 23 r_hand
    ],
    dtype=np.float64,
)

#: Root depth of the dancer (mm): far enough that the whole body fits a 512×896 FOV-55 frame.
DEFAULT_DEPTH_MM = 3600.0


def _rot(axis: str, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _local_rotations(phase: float, style: str) -> dict[int, np.ndarray]:
    """Local joint rotations (3×3) at ``phase`` (radians of the main beat)."""
    s1, c1 = math.sin(phase), math.cos(phase)
    s2 = math.sin(2 * phase)
    rots: dict[int, np.ndarray] = {}
    if style == "walk":
        swing = 0.45 * s1
        rots[1] = _rot("x", swing)  # l_hip: leg forward/back (towards/away from camera)
        rots[2] = _rot("x", -swing)
        rots[4] = _rot("x", -0.5 * max(0.0, -s1))  # knees bend on the back swing
        rots[5] = _rot("x", -0.5 * max(0.0, s1))
        rots[16] = _rot("x", -0.4 * s1)  # arms swing opposite to legs
        rots[17] = _rot("x", 0.4 * s1)
        rots[18] = _rot("x", 0.3)
        rots[19] = _rot("x", 0.3)
        rots[3] = _rot("y", 0.08 * s1)
        return rots
    # "dance": arms wave up and down sideways, knees bounce, hips sway.
    up = 0.5 + 0.5 * s1  # 0..1
    rots[16] = _rot("z", -(0.35 + 1.9 * up))  # l_shoulder: raise the left arm sideways (to +x)
    rots[17] = _rot("z", 0.35 + 1.9 * (0.5 + 0.5 * math.sin(phase + math.pi / 2)))
    rots[18] = _rot("z", -0.6 * (0.5 + 0.5 * s2))  # elbows bend in the arm's plane
    rots[19] = _rot("z", 0.6 * (0.5 + 0.5 * math.cos(2 * phase)))
    bend = 0.18 + 0.18 * (0.5 + 0.5 * math.cos(2 * phase))
    rots[1] = _rot("x", bend) @ _rot("z", -0.05 - 0.08 * c1)
    rots[2] = _rot("x", bend) @ _rot("z", 0.05 - 0.08 * c1)
    rots[4] = _rot("x", -2 * bend)
    rots[5] = _rot("x", -2 * bend)
    rots[7] = _rot("x", bend)
    rots[8] = _rot("x", bend)
    rots[3] = _rot("z", 0.10 * c1)  # torso sway
    rots[9] = _rot("y", 0.15 * s1)
    rots[15] = _rot("z", -0.12 * c1) @ _rot("x", 0.1 * s2)
    return rots


def skeleton_at(
    phase: float,
    root_mm: np.ndarray,
    yaw: float = 0.0,
    style: str = "dance",
) -> np.ndarray:
    """SMPL-24 joints (24, 3) float64 mm of the procedural dancer at one instant.

    Args:
        phase: beat phase in radians.
        root_mm: (3,) camera-space pelvis position (mm).
        yaw: rotation of the whole body about the vertical axis (radians).
        style: ``"dance"`` or ``"walk"`` (walking on the spot).
    """
    local = _local_rotations(phase, style)
    glob = [np.eye(3)] * smpl.NUM_JOINTS
    pos = np.zeros((smpl.NUM_JOINTS, 3))
    root_rot = _rot("y", yaw)
    for j in range(smpl.NUM_JOINTS):
        parent = int(smpl.PARENTS[j])
        r_local = local.get(j, np.eye(3))
        if parent < 0:
            glob[j] = root_rot @ r_local
            pos[j] = np.asarray(root_mm, np.float64)
        else:
            glob[j] = glob[parent] @ r_local
            pos[j] = pos[parent] + glob[parent] @ _REST_OFFSETS_MM[j]
    return pos


def bone_lengths_mm(joints: np.ndarray) -> np.ndarray:
    """(…, 23) lengths of the SMPL bones (child minus parent), mm."""
    j = np.asarray(joints, np.float64)
    return np.linalg.norm(j[..., 1:, :] - j[..., smpl.PARENTS[1:], :], axis=-1)


def _pose2d_from_joints(joints: np.ndarray, camera: Camera) -> Pose2D:
    """A whole-body 2D layer (normalised) projected from the procedural skeletons (P, 24, 3).

    Body: SMPL → OpenPose-18 plus eyes/ears placed around the head; face: brows, eyes and mouth
    of a small template around the head; hands: five straight fingers fanned from the wrist.
    """
    h, w = camera.size_hw
    p = joints.shape[0]
    body = np.zeros((p, op.NUM_BODY, 2))
    body_s = np.zeros((p, op.NUM_BODY), np.float32)
    face = np.full((p, op.NUM_FACE, 2), op.INVISIBLE)
    face_s = np.zeros((p, op.NUM_FACE), np.float32)
    hands = {side: np.full((p, op.NUM_HAND, 2), op.INVISIBLE) for side in ("l", "r")}
    hands_s = {side: np.zeros((p, op.NUM_HAND), np.float32) for side in ("l", "r")}
    for i in range(p):
        jt = joints[i]
        head, neck = jt[smpl.HEAD], jt[smpl.NECK]
        up = (head - neck) / max(np.linalg.norm(head - neck), 1e-6)
        right = np.array([1.0, 0.0, 0.0])  # image right (the person's left)
        front = np.array([0.0, 0.0, -1.0])
        face_c = head + 0.25 * 110 * up + 80 * front
        pts3 = np.zeros((op.NUM_BODY, 3))
        for slot, src in enumerate(smpl.OP18_FROM_SMPL24):
            if src >= 0:
                pts3[slot] = jt[src]
        pts3[0] = face_c - 10 * up  # nose on the face, not the head centre
        pts3[14] = face_c + 20 * up - 35 * right  # r_eye (image left)
        pts3[15] = face_c + 20 * up + 35 * right
        pts3[16] = face_c + 5 * up - 75 * right - 60 * front
        pts3[17] = face_c + 5 * up + 75 * right - 60 * front
        for k, ankle in enumerate((smpl.L_ANKLE,) * 3 + (smpl.R_ANKLE,) * 3):
            # feet 18–23: big toe, small toe (forward of the ankle), heel (behind it)
            fwd_mm = (100.0, 70.0, -50.0)[k % 3]
            side_mm = (0.0, 30.0, 0.0)[k % 3] * (1 if ankle == smpl.L_ANKLE else -1)
            pts3[18 + k] = jt[ankle] + fwd_mm * front + side_mm * right + 50 * (-up)
        body[i] = camera.project(pts3) / (w, h)
        body_s[i] = 0.9
        # Face template (x right, y up in units of mm around face_c).
        tmpl: dict[int, tuple[float, float]] = {}
        for k in range(5):  # brows 17–21 (image left), 22–26
            tmpl[17 + k] = (-60 + 10 * k, 35 + 4 * math.sin(k))
            tmpl[22 + k] = (20 + 10 * k, 35 + 4 * math.sin(k))
        for k in range(6):  # eyes 36–41, 42–47
            a = 2 * math.pi * k / 6
            tmpl[36 + k] = (-35 + 12 * math.cos(a), 18 + 5 * math.sin(a))
            tmpl[42 + k] = (35 + 12 * math.cos(a), 18 + 5 * math.sin(a))
        for k in range(20):  # mouth 48–67
            a = 2 * math.pi * k / (12 if k < 12 else 8)
            rx, ry = (28, 10) if k < 12 else (18, 4)
            tmpl[48 + k] = (rx * math.cos(a), -35 + ry * math.sin(a))
        idx = np.array(sorted(tmpl))
        xy = np.array([tmpl[k] for k in idx])
        f3 = face_c + xy[:, :1] * right + xy[:, 1:] * up
        face[i, idx] = camera.project(f3) / (w, h)
        face_s[i, idx] = 0.9
        for side, wrist, elbow in (("l", 20, 18), ("r", 21, 19)):
            fwd = jt[wrist] - jt[elbow]
            fwd /= max(np.linalg.norm(fwd), 1e-6)
            side_v = np.cross(fwd, front)
            side_v /= max(np.linalg.norm(side_v), 1e-6)
            pts = [jt[wrist]]
            for finger in range(5):
                spread = (finger - 2) * 0.28
                d = math.cos(spread) * fwd + math.sin(spread) * side_v
                base = jt[wrist] + 35 * d
                for seg in range(4):
                    pts.append(base + 22 * seg * d)
            hands[side][i] = camera.project(np.array(pts)) / (w, h)
            hands_s[side][i] = 0.9
    return Pose2D(
        body, body_s, face, face_s, hands["l"], hands_s["l"], hands["r"], hands_s["r"],
        np.arange(p, dtype=np.int32),
    )  # fmt: skip


def demo_motion(
    num_frames: int = 48,
    fps: float = 16.0,
    size_hw: tuple[int, int] = (512, 896),
    people: int = 1,
    style: str = "dance",
    with_2d: bool = True,
) -> PoseSequence:
    """A procedural dance (or walk) as a :class:`PoseSequence` ready to render.

    Args:
        num_frames: number of frames T (≥ 1).
        fps: frames per second of the motion (one beat every 1.5 s).
        size_hw: (H, W) of the camera frame; the FOV-55 camera K0 of that size is used.
        people: 1 or 2 dancers side by side (the second one mirrors the first, half a beat late).
        style: ``"dance"`` or ``"walk"``.
        with_2d: also attach the projected 2D layer (face, hands, eyes/ears).

    Returns:
        PoseSequence with T frames; each frame's ``pose3d`` holds ``people`` SMPL-24 skeletons
        (camera mm) with track ids 0.., ``meta["source"] == "demo"``.
    """
    if int(num_frames) < 1:
        raise InputError(f"demo_motion: num_frames must be ≥ 1, got {num_frames}")
    if people not in (1, 2):
        raise InputError(f"demo_motion: people must be 1 or 2, got {people}")
    if style not in ("dance", "walk"):
        raise InputError(f"demo_motion: style must be 'dance' or 'walk', got {style!r}")
    h, w = size_hw
    camera = Camera.from_fov((h, w))
    # Keep the whole body in view: the body spans about ±1 m vertically and, arms out, ±0.95 m
    # horizontally (plus the side-by-side offset of a second dancer).
    f = camera.fx
    half_w_mm = 950.0 + (700.0 if people == 2 else 0.0)
    depth = max(DEFAULT_DEPTH_MM, 1.05 * max(1000.0 * f / (h / 2), half_w_mm * f / (w / 2)))
    frames = []
    beat = 2 * math.pi / (1.5 * fps)
    for t in range(int(num_frames)):
        ph = t * beat
        skels = []
        for k in range(people):
            off_x = 0.0 if people == 1 else (-550.0 if k == 0 else 550.0)
            pk = ph + k * math.pi
            root = np.array(
                [
                    off_x + 120 * math.sin(pk / 2),
                    10 + 35 * math.cos(2 * pk),
                    depth + (200 * math.sin(pk / 3) if style == "dance" else 0.0),
                ]
            )
            yaw = 0.35 * math.sin(pk / 2) if style == "dance" else 0.2 * math.sin(pk / 4)
            skels.append(skeleton_at(pk, root, yaw=yaw, style=style))
        joints = np.stack(skels).astype(np.float32)
        ids = np.arange(people, dtype=np.int32)
        p3 = Pose3D(joints, np.ones(people, bool), ids)
        p2 = _pose2d_from_joints(joints.astype(np.float64), camera) if with_2d else None
        frames.append(PoseFrame(detections=None, pose2d=p2, pose3d=p3))
    return PoseSequence(
        frames=tuple(frames),
        size_hw=(h, w),
        fps=fps,
        camera=camera,
        meta={"source": "demo", "style": style, "people": people},
    )
