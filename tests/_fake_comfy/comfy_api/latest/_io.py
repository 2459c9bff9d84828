"""Stand-in of ``comfy_api.latest._io`` (the ``io`` module): the subset the pack uses.

Signatures follow ComfyUI's V3 API; behaviour is reduced to what tests observe: schema
objects with ``as_dict``, ``Schema.finalize``/``validate``, ``NodeOutput`` and ``ComfyNode``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Any


def _prune(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


class Input:
    """Base input: an id plus display/tooltip metadata."""

    Parent: Any = None

    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                 lazy: bool = None, extra_dict=None):  # fmt: skip
        self.id = id
        self.display_name = display_name
        self.optional = optional
        self.tooltip = tooltip
        self.lazy = lazy
        self.extra_dict = extra_dict or {}

    @property
    def io_type(self):
        return self.Parent.io_type

    def as_dict(self) -> dict:
        return _prune({"display_name": self.display_name, "optional": self.optional,
                       "tooltip": self.tooltip, "lazy": self.lazy}) | _prune(self.extra_dict)  # fmt: skip

    def get_io_type(self):
        return self.io_type


class WidgetInput(Input):
    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                 lazy: bool = None, default: Any = None, socketless: bool = None,
                 widget_type: str = None, force_input: bool = None, extra_dict=None):  # fmt: skip
        super().__init__(id, display_name, optional, tooltip, lazy, extra_dict)
        self.default = default
        self.socketless = socketless
        self.widget_type = widget_type
        self.force_input = force_input

    def as_dict(self) -> dict:
        return super().as_dict() | _prune({"default": self.default, "forceInput": self.force_input})


class Output:
    Parent: Any = None

    def __init__(self, id: str = None, display_name: str = None, tooltip: str = None,
                 is_output_list=False):  # fmt: skip
        self.id = id
        self.display_name = display_name
        self.tooltip = tooltip
        self.is_output_list = is_output_list

    @property
    def io_type(self):
        return self.Parent.io_type

    def get_io_type(self):
        return self.io_type


class ComfyTypeIO:
    io_type: str = None
    Type: Any = Any
    Input = Input
    Output = Output


def _bind(cls: type, io_type: str) -> type:
    """Give ``cls`` its own Input/Output subclasses that know their parent type."""
    cls.io_type = io_type
    cls.Input = type("Input", (cls.Input,), {"Parent": cls})
    cls.Output = type("Output", (cls.Output,), {"Parent": cls})
    return cls


def comfytype(io_type: str, **kwargs):
    def decorator(cls):
        return _bind(cls, io_type)

    return decorator


def Custom(io_type: str) -> type[ComfyTypeIO]:  # noqa: N802 - ComfyUI's name
    """A ComfyType for a custom wire type."""
    return _bind(type(f"Custom_{io_type}", (ComfyTypeIO,), {}), io_type)


class _NumberInput(WidgetInput):
    def __init__(self, id: str, display_name: str = None, optional=False, tooltip: str = None,
                 lazy: bool = None, default=None, min=None, max=None, step=None,
                 socketless: bool = None, force_input: bool = None, **extra):  # fmt: skip
        super().__init__(id, display_name, optional, tooltip, lazy, default, socketless, None,
                         force_input)  # fmt: skip
        self.min, self.max, self.step = min, max, step
        self.round = extra.get("round")

    def as_dict(self) -> dict:
        return super().as_dict() | _prune({"min": self.min, "max": self.max, "step": self.step})


@comfytype(io_type="INT")
class Int(ComfyTypeIO):
    Type = int

    class Input(_NumberInput):
        """Integer input (min/max/step like ComfyUI's)."""


@comfytype(io_type="FLOAT")
class Float(ComfyTypeIO):
    Type = float

    class Input(_NumberInput):
        """Float input (min/max/step/round like ComfyUI's)."""


@comfytype(io_type="BOOLEAN")
class Boolean(ComfyTypeIO):
    Type = bool

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False,
                     tooltip: str = None, lazy: bool = None, default: bool = None,
                     label_on: str = None, label_off: str = None, socketless: bool = None,
                     force_input: bool = None):  # fmt: skip
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless,
                             None, force_input)  # fmt: skip
            self.label_on, self.label_off = label_on, label_off


@comfytype(io_type="STRING")
class String(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        def __init__(self, id: str, display_name: str = None, optional=False,
                     tooltip: str = None, lazy: bool = None, multiline=False,
                     placeholder: str = None, default: str = None,
                     dynamic_prompts: bool = None, socketless: bool = None,
                     force_input: bool = None):  # fmt: skip
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless,
                             None, force_input)  # fmt: skip
            self.multiline, self.placeholder = multiline, placeholder


@comfytype(io_type="COMBO")
class Combo(ComfyTypeIO):
    Type = str

    class Input(WidgetInput):
        def __init__(self, id: str, options=None, display_name: str = None, optional=False,
                     tooltip: str = None, lazy: bool = None, default=None,
                     control_after_generate: bool = None, upload=None, image_folder=None,
                     remote=None, socketless: bool = None):  # fmt: skip
            if isinstance(options, type) and issubclass(options, Enum):
                options = [v.value for v in options]
            super().__init__(id, display_name, optional, tooltip, lazy, default, socketless)
            self.options = options

        def as_dict(self) -> dict:
            return super().as_dict() | _prune({"options": self.options})

        def get_io_type(self):
            return "COMBO"


@comfytype(io_type="IMAGE")
class Image(ComfyTypeIO):
    """IMAGE: torch.float32 [B, H, W, C] in [0, 1]."""


@comfytype(io_type="MASK")
class Mask(ComfyTypeIO):
    """MASK: torch.float32 [B, H, W] in [0, 1]."""


class Hidden(str, Enum):
    unique_id = "UNIQUE_ID"
    prompt = "PROMPT"
    extra_pnginfo = "EXTRA_PNGINFO"
    dynprompt = "DYNPROMPT"
    auth_token_comfy_org = "AUTH_TOKEN_COMFY_ORG"
    api_key_comfy_org = "API_KEY_COMFY_ORG"


class HiddenHolder:
    def __init__(self, unique_id: str = None, prompt: Any = None, **kwargs):
        self.unique_id = unique_id
        self.prompt = prompt

    def __getattr__(self, key: str):
        return None


@dataclass
class Schema:
    node_id: str
    display_name: str = None
    category: str = "sd"
    inputs: list = None
    outputs: list = None
    hidden: list = None
    description: str = ""
    is_input_list: bool = False
    is_output_node: bool = False
    is_deprecated: bool = False
    is_experimental: bool = False
    is_api_node: bool = False
    not_idempotent: bool = False
    enable_expand: bool = False

    def validate(self) -> None:
        ins = [i.id for i in self.inputs or []]
        outs = [o.id for o in self.outputs or []]
        issues = []
        for name, ids in (("Input", ins), ("Output", outs)):
            dup = [k for k, n in Counter(ids).items() if n > 1]
            if dup:
                issues.append(f"{name} ids must be unique, but {dup} are not.")
        if set(ins) & set(outs):
            issues.append(f"Ids must be unique between inputs and outputs: {set(ins) & set(outs)}")
        if issues:
            raise ValueError("\n".join(issues))

    def finalize(self) -> None:
        if self.is_output_node:
            self.hidden = list(self.hidden or [])
            for h in (Hidden.prompt, Hidden.extra_pnginfo):
                if h not in self.hidden:
                    self.hidden.append(h)
        for i, out in enumerate(self.outputs or []):
            if out.id is None:
                out.id = f"_{i}_{out.io_type}_"


class NodeOutput:
    def __init__(self, *args: Any, ui=None, expand: dict = None, block_execution: str = None):
        self.args = args
        self.ui = ui
        self.expand = expand
        self.block_execution = block_execution

    @property
    def result(self):
        return self.args if len(self.args) > 0 else None

    def __getitem__(self, index) -> Any:
        return self.args[index]


class ComfyNode:
    """Base class of V3 nodes: classmethods only, as in ComfyUI."""

    hidden: HiddenHolder = None
    SCHEMA: Schema = None

    @classmethod
    def define_schema(cls) -> Schema:
        raise NotImplementedError

    @classmethod
    def execute(cls, **kwargs) -> NodeOutput:
        raise NotImplementedError

    @classmethod
    def validate_inputs(cls, **kwargs) -> bool:
        raise NotImplementedError

    @classmethod
    def fingerprint_inputs(cls, **kwargs) -> Any:
        raise NotImplementedError

    @classmethod
    def GET_SCHEMA(cls) -> Schema:  # noqa: N802 - ComfyUI's name
        schema = cls.define_schema()
        schema.finalize()
        schema.validate()
        cls.SCHEMA = schema
        return schema


class _UIOutput:
    def as_dict(self) -> dict:
        raise NotImplementedError
