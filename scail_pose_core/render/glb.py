"""Export a pose sequence's 3D skeleton as an animated GLB (glTF 2.0 binary), via pygltflib.

Scene layout: one node per (person slot, limb 0–12) instancing a unit cylinder (radius 1, height
1 along +Y, centred), animated per frame with translation (bone midpoint), rotation (+Y → bone
direction) and scale (radius, length, radius); plus one node per (person slot, OpenPose joint
0–13) instancing a unit sphere scaled to the capsule radius — together they form the capsules.
A bone or joint that is missing in a frame has scale 0 there. Colours are the renderer's limb
colours. Units are metres and axes are glTF's (+Y up, +Z towards the viewer): a camera-space
point (x, y, z) mm becomes (x, −y, −z)/1000, so the scene looks as seen from the camera at the
origin looking down −Z. Keyframe times are frame/fps seconds, linear interpolation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..skeletons import openpose as op
from ..skeletons import smpl
from ..types import PoseSequence
from .scene import CAPSULE_LIMB_ORDER, CAPSULE_RADIUS_MM, character_of, max_people_3d
from .style import character_render_colors, resolve_palette

_SEGMENTS = 16
_JOINTS = tuple(range(14))


def _cylinder(segments: int = _SEGMENTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ang = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    ring = np.stack([np.cos(ang), np.zeros_like(ang), np.sin(ang)], 1)
    side = np.concatenate([ring + [0, -0.5, 0], ring + [0, 0.5, 0]])
    side_n = np.concatenate([ring, ring])
    caps = np.concatenate([ring + [0, -0.5, 0], ring + [0, 0.5, 0], [[0, -0.5, 0], [0, 0.5, 0]]])
    caps_n = np.concatenate([np.tile([0, -1, 0], (segments, 1)), np.tile([0, 1, 0], (segments, 1)),
                             [[0, -1, 0], [0, 1, 0]]])  # fmt: skip
    pos = np.concatenate([side, caps]).astype(np.float32)
    nrm = np.concatenate([side_n, caps_n]).astype(np.float32)
    idx = []
    s = segments
    for i in range(s):
        j = (i + 1) % s
        idx += [i, s + i, j, j, s + i, s + j]  # side
        idx += [4 * s, 2 * s + j, 2 * s + i]  # bottom fan
        idx += [4 * s + 1, 3 * s + i, 3 * s + j]  # top fan
    return pos, nrm, np.asarray(idx, np.uint32)


def _sphere(rings: int = 8, segments: int = _SEGMENTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    verts = []
    for i in range(rings + 1):
        th = math.pi * i / rings
        for j in range(segments + 1):
            ph = 2 * math.pi * j / segments
            verts.append([math.sin(th) * math.cos(ph), math.cos(th), math.sin(th) * math.sin(ph)])
    pos = np.asarray(verts, np.float32)
    idx = []
    w = segments + 1
    for i in range(rings):
        for j in range(segments):
            a, b = i * w + j, (i + 1) * w + j
            idx += [a, a + 1, b, b, a + 1, b + 1]
    return pos, pos.copy(), np.asarray(idx, np.uint32)


def _quat_y_to(v: np.ndarray) -> np.ndarray:
    """(F, 4) xyzw quaternions rotating +Y onto the unit vectors v (F, 3)."""
    y = np.array([0.0, 1.0, 0.0])
    c = np.cross(np.broadcast_to(y, v.shape), v)
    w = 1.0 + v @ y
    q = np.concatenate([c, w[:, None]], 1)
    flip = w < 1e-9
    q[flip] = [1.0, 0.0, 0.0, 0.0]
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _to_gltf(p_mm: np.ndarray) -> np.ndarray:
    return (np.asarray(p_mm, np.float64) * np.array([1.0, -1.0, -1.0]) / 1000.0).astype(np.float32)


def export_glb(seq: PoseSequence, path: str | Path, fps: float | None = None) -> Path:
    """Write ``seq``'s 3D skeleton as an animated ``.glb`` and return its path.

    Args:
        seq: the pose sequence (frames without 3D are written as hidden skeletons).
        path: output file (``.glb`` is appended when missing).
        fps: keyframe rate; defaults to ``seq.fps``.
    """
    import pygltflib as g

    fps = float(seq.fps if fps is None else fps)
    if not fps > 0:
        raise InputError(f"export_glb: fps must be > 0, got {fps}")
    n = len(seq)
    if n == 0:
        raise InputError("export_glb: the pose sequence has no frames")
    path = Path(path)
    if path.suffix.lower() != ".glb":
        path = path.with_suffix(path.suffix + ".glb")
    slots = max((f.pose3d.num_people for f in seq.frames if f.pose3d is not None), default=0)
    palette = resolve_palette("auto", max_people_3d(seq))

    # per slot, per frame: OpenPose-18 joints and presence
    joints = np.zeros((slots, n, 18, 3), np.float32)
    present = np.zeros((slots, n), bool)
    character = np.arange(slots)
    for fi, f in enumerate(seq.frames):
        p3 = f.pose3d
        if p3 is None:
            continue
        for s in range(p3.num_people):
            if p3.present[s]:
                joints[s, fi] = smpl.smpl24_to_openpose18(p3.joints_mm[s])
                present[s, fi] = True
                character[s] = character_of(p3, s)
    nonzero = np.sum(joints, axis=-1) != 0  # the renderer's skip rule, per joint

    blob = bytearray()
    gl = g.GLTF2(asset=g.Asset(generator="scail_pose_core"))
    gl.scenes = [g.Scene(nodes=[])]
    gl.scene = 0

    def add(
        arr: np.ndarray, ctype: int, atype: str, target: int | None = None, minmax=False
    ) -> int:
        data = np.ascontiguousarray(arr)
        while len(blob) % 4:
            blob.append(0)
        off = len(blob)
        blob.extend(data.tobytes())
        gl.bufferViews.append(g.BufferView(buffer=0, byteOffset=off, byteLength=data.nbytes,
                                           target=target))  # fmt: skip
        acc = g.Accessor(bufferView=len(gl.bufferViews) - 1, componentType=ctype,
                         count=int(data.shape[0]), type=atype)  # fmt: skip
        if minmax:
            acc.min = [float(x) for x in np.atleast_1d(data.min(0))]
            acc.max = [float(x) for x in np.atleast_1d(data.max(0))]
        gl.accessors.append(acc)
        return len(gl.accessors) - 1

    meshes = {}
    for name, (pos, nrm, idx) in (("cylinder", _cylinder()), ("sphere", _sphere())):
        pa = add(pos, g.FLOAT, g.VEC3, g.ARRAY_BUFFER, minmax=True)
        na = add(nrm, g.FLOAT, g.VEC3, g.ARRAY_BUFFER)
        ia = add(idx, g.UNSIGNED_INT, g.SCALAR, g.ELEMENT_ARRAY_BUFFER)
        meshes[name] = (pa, na, ia)

    def mesh(kind: str, rgba: tuple[float, float, float, float]) -> int:
        gl.materials.append(g.Material(pbrMetallicRoughness=g.PbrMetallicRoughness(
            baseColorFactor=[float(c) for c in rgba], metallicFactor=0.0, roughnessFactor=0.6)))  # fmt: skip
        pa, na, ia = meshes[kind]
        prim = g.Primitive(attributes=g.Attributes(POSITION=pa, NORMAL=na), indices=ia,
                           material=len(gl.materials) - 1)  # fmt: skip
        gl.meshes.append(g.Mesh(primitives=[prim]))
        return len(gl.meshes) - 1

    times = add((np.arange(n) / fps).astype(np.float32), g.FLOAT, g.SCALAR, minmax=True)
    anim = g.Animation(name="skeleton", samplers=[], channels=[])
    r_m = CAPSULE_RADIUS_MM / 1000.0

    def animate(node: int, trans: np.ndarray, rot: np.ndarray | None, scale: np.ndarray) -> None:
        for prop, arr, atype in (("translation", trans, g.VEC3), ("rotation", rot, g.VEC4),
                                 ("scale", scale, g.VEC3)):  # fmt: skip
            if arr is None:
                continue
            out = add(arr.astype(np.float32), g.FLOAT, atype)
            anim.samplers.append(
                g.AnimationSampler(input=times, output=out, interpolation="LINEAR")
            )
            anim.channels.append(g.AnimationChannel(
                sampler=len(anim.samplers) - 1, target=g.AnimationChannelTarget(node=node, path=prop)))  # fmt: skip

    for s in range(slots):
        colors = character_render_colors(int(character[s]), palette)
        for limb in CAPSULE_LIMB_ORDER:
            i, j = op.LIMBS[limb]
            a, b = _to_gltf(joints[s, :, i]), _to_gltf(joints[s, :, j])
            vis = present[s] & nonzero[s, :, i] & nonzero[s, :, j]
            vec = b - a
            length = np.linalg.norm(vec, axis=1)
            unit = np.where(
                length[:, None] > 1e-9, vec / np.maximum(length, 1e-9)[:, None], [0, 1, 0]
            )
            scale = np.stack([np.full(n, r_m), length, np.full(n, r_m)], 1) * vis[:, None]
            rgba = tuple(colors[limb][:3]) + (1.0,)
            gl.nodes.append(g.Node(name=f"p{s}_limb{limb}", mesh=mesh("cylinder", rgba)))
            node = len(gl.nodes) - 1
            gl.scenes[0].nodes.append(node)
            animate(node, (a + b) / 2, _quat_y_to(unit), scale)
        for jt in _JOINTS:
            vis = present[s] & nonzero[s, :, jt]
            gl.nodes.append(
                g.Node(name=f"p{s}_joint{jt}", mesh=mesh("sphere", (0.9, 0.9, 0.9, 1.0)))
            )
            node = len(gl.nodes) - 1
            gl.scenes[0].nodes.append(node)
            animate(node, _to_gltf(joints[s, :, jt]), None, np.full((n, 3), r_m) * vis[:, None])
    if anim.channels:
        gl.animations = [anim]
    gl.buffers = [g.Buffer(byteLength=len(blob))]
    gl.set_binary_blob(bytes(blob))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.glb")
    gl.save_binary(str(tmp))
    tmp.replace(path)
    return path
