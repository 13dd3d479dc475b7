"""Names for a measured environment, read from a header's `environment` (captured by
worker/environment.py): what the report calls it, and which machine start measured it."""

from __future__ import annotations

from typing import Any


def machine(env: dict[str, Any]) -> str | None:
    """Which physical machine start and GPU measured: host, boot and GPU UUID. Two modes
    compared across machine starts (a run resumed on another lease, say) carry the
    machine-to-machine difference in their ratio. None where a header predates these."""
    if not env.get("boot_id"):
        return None
    return f"{env.get('host')}/{env['boot_id']}/{env.get('gpu_uuid') or 'cpu'}"


TORCH_SEP = " · torch "


def label(env: dict[str, Any]) -> str:
    """A short name for an environment: 'NVIDIA H100 80GB HBM3 · torch 2.11.0+cu130'."""
    device = env.get("gpu") or f"CPU ({env.get('cpu', '?')})"
    return f"{device}{TORCH_SEP}{env.get('torch', '?')}"


def label_parts(text: str) -> tuple[str, str] | None:
    """(gpu, torch) of a label as `label` writes it, the gpu as records name it ('CPU' for
    any CPU); None for text that is no such label."""
    if TORCH_SEP not in text:
        return None
    device, torch = text.split(TORCH_SEP, 1)
    return ("CPU" if device.startswith("CPU") else device), torch
