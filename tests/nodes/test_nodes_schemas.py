"""Node schemas: prefixed stable ids, docs on everything, execute() matching the inputs,
defaults taken from the core's option dataclasses, and a snapshot of every id and type."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("node_schemas.json")
BUILTIN_TYPES = {"IMAGE", "MASK", "INT", "FLOAT", "BOOLEAN", "STRING", "COMBO", "POSE_KEYPOINT"}


def _schemas(node_classes):
    return {nid: cls.GET_SCHEMA() for nid, cls in node_classes.items()}


def test_ids_prefixed_unique_and_categorised(node_classes):
    schemas = _schemas(node_classes)
    assert len(schemas) >= 17
    for nid, s in schemas.items():
        assert nid.startswith("ScailPose") and nid == s.node_id
        assert s.category.startswith("SCAIL-Pose")
        assert s.display_name
    names = [s.display_name for s in schemas.values()]
    assert len(set(names)) == len(names)


def test_every_node_input_and_output_is_documented(node_classes):
    for nid, s in _schemas(node_classes).items():
        assert len(s.description) > 40, nid
        for item in [*(s.inputs or []), *(s.outputs or [])]:
            assert item.tooltip and len(item.tooltip) > 8, (nid, item.id)


def test_custom_wire_types_are_prefixed(node_classes):
    for nid, s in _schemas(node_classes).items():
        for item in [*(s.inputs or []), *(s.outputs or [])]:
            t = str(item.get_io_type()) if hasattr(item, "get_io_type") else str(item.io_type)
            assert t in BUILTIN_TYPES or t.startswith("SCAIL_"), (nid, item.id, t)


def test_execute_parameters_are_exactly_the_inputs(node_classes):
    for nid, cls in node_classes.items():
        s = cls.GET_SCHEMA()
        params = inspect.signature(cls.execute).parameters
        assert not any(p.kind == p.VAR_KEYWORD for p in params.values()), nid
        assert set(params) == {i.id for i in s.inputs or []}, nid
        for inp in s.inputs or []:
            if inp.optional and getattr(inp, "default", None) is None:
                assert params[inp.id].default is None, (nid, inp.id)


def test_widget_defaults_come_from_the_core_options(scail, node_classes):
    pack = scail[0]
    core = pack.scail_pose_core
    from importlib import import_module

    pose2d = import_module(f"{pack.__name__}.scail_pose_core.pose2d")
    lift3d = import_module(f"{pack.__name__}.scail_pose_core.lift3d")
    render = import_module(f"{pack.__name__}.scail_pose_core.render")
    retarget = import_module(f"{pack.__name__}.scail_pose_core.retarget")
    segment = import_module(f"{pack.__name__}.scail_pose_core.segment")
    options = {
        "ScailPoseDWPoseDetect": pose2d.DetectOptions(),
        "ScailPoseNLF3DLift": lift3d.LiftOptions(),
        "ScailPoseSmoothPoses": lift3d.SmoothOptions(),
        "ScailPoseRetarget3D": retarget.RetargetOptions(),
        "ScailPoseRenderSkeleton": render.RenderOptions(),
        "ScailPoseSAM2SegmentCharacters": segment.SegmentOptions(),
        "ScailPoseExtractSinglePerson": core.pipeline.PipelineOptions(),
    }
    checked = 0
    for nid, opts in options.items():
        for inp in node_classes[nid].GET_SCHEMA().inputs:
            if hasattr(opts, inp.id) and not isinstance(getattr(opts, inp.id), (tuple, type(None))):
                assert inp.default == getattr(opts, inp.id), (nid, inp.id)
                checked += 1
    assert checked >= 15


def _snapshot(node_classes) -> dict:
    out = {}
    for nid, s in sorted(_schemas(node_classes).items()):
        out[nid] = {
            "inputs": [[i.id, str(i.get_io_type()), bool(i.optional)] for i in s.inputs or []],
            "outputs": [[o.id, str(o.io_type)] for o in s.outputs or []],
            "output_node": bool(s.is_output_node),
        }
    return out


def test_schema_snapshot(node_classes):
    """Input ids/types never change on an existing node id (add optional inputs or a V2 node).

    Regenerate deliberately with SCAIL_UPDATE_SCHEMAS=1 and review the diff."""
    current = _snapshot(node_classes)
    if os.environ.get("SCAIL_UPDATE_SCHEMAS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT.name} is missing; create it with SCAIL_UPDATE_SCHEMAS=1")
    saved = json.loads(SNAPSHOT.read_text())
    for nid, entry in saved.items():
        assert nid in current, f"node {nid} disappeared"
        now = current[nid]
        assert now["outputs"] == entry["outputs"], nid
        old_inputs = {i[0]: i for i in entry["inputs"]}
        new_inputs = {i[0]: i for i in now["inputs"]}
        for iid, spec in old_inputs.items():
            assert new_inputs.get(iid) == spec, (nid, iid)
        for iid in set(new_inputs) - set(old_inputs):
            assert new_inputs[iid][2], f"{nid}.{iid}: new inputs must be optional"
    assert set(current) == set(saved), "new node ids: update the snapshot (SCAIL_UPDATE_SCHEMAS=1)"


def test_external_mask_tooltips_number_characters_like_the_inputs(node_classes):
    """external_mask_k is character k (track id k-1) in its tooltip, never "character k-1"."""
    inputs = node_classes["ScailPoseSAM2SegmentCharacters"].GET_SCHEMA().inputs
    masks = [i for i in inputs if i.id.startswith("external_mask_")]
    assert len(masks) == 4
    for inp in masks:
        k = int(inp.id.rsplit("_", 1)[1])
        assert f"character {k} " in inp.tooltip and f"track id {k - 1}" in inp.tooltip, inp.tooltip
