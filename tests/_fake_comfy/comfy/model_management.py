"""Stand-in of ``comfy.model_management``: CPU device and the interrupt flag."""

from __future__ import annotations

import threading

import torch


class InterruptProcessingException(Exception):
    pass


interrupt_processing = False
_lock = threading.RLock()


def get_torch_device() -> torch.device:
    return torch.device("cpu")


def interrupt_current_processing(value: bool = True) -> None:
    global interrupt_processing
    with _lock:
        interrupt_processing = value


def processing_interrupted() -> bool:
    with _lock:
        return interrupt_processing


def throw_exception_if_processing_interrupted() -> None:
    global interrupt_processing
    with _lock:
        if interrupt_processing:
            interrupt_processing = False
            raise InterruptProcessingException()


def soft_empty_cache(force: bool = False) -> None:
    return None
