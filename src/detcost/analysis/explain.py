"""What changes in a profiled case between default and deterministic mode: the kernel that
does most of the work, the device's time per step (its costliest kernels summed, as many as
a kernel table keeps), and the host's time
to issue a step. Three answers come out: another kernel was chosen; the same kernels ran and
the host took longer to issue them; or the step is launch-bound, so its time is the host's
and moves with the host's speed from one machine start to the next."""

from __future__ import annotations

import math
import re

import pandas as pd

from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from .stats import LAUNCH_BOUND
from .tables import only_kernels, profiled_pairs

COLUMNS = ["env", "run_id", "case_id", "default_ms", "mode_ms", "device_default_ms",
           "device_mode_ms", "host_default_ms", "host_mode_ms", "kernel_default",
           "kernel_mode", "what_changed"]
SAME_DEVICE = 0.10  # kernels within 10% of each other: the device did the same work
MAIN_SHARE = 0.05  # a kernel with this share of the device's time or more is a main one
NAME_CHARS = 60


def kernel_label(name: str) -> str:
    """A kernel's name without its template arguments and signature:
    'void at::native::indexFuncLargeIndex<float, ...>(...)' -> 'at::native::indexFuncLargeIndex'."""
    bare = re.sub(r"^void\s+|\(anonymous namespace\)::", "", name)
    bare = re.split(r"[<(]", bare, maxsplit=1)[0].strip()
    return (bare or name)[:NAME_CHARS]


def _main_kernels(kernels: dict[str, float]) -> dict[str, float]:
    """Kernels by label, those that take at least MAIN_SHARE of the device's time."""
    total = sum(kernels.values())
    labelled: dict[str, float] = {}
    for name, seconds in kernels.items():
        labelled[kernel_label(name)] = labelled.get(kernel_label(name), 0.0) + seconds
    return {k: v for k, v in labelled.items() if total and v >= MAIN_SHARE * total}


def _switched(before: dict[str, float], after: dict[str, float]) -> str:
    """'A → B' where a main kernel of one mode does not run in the other, else ''."""
    main_b, main_m = _main_kernels(before), _main_kernels(after)
    ran_b, ran_m = {kernel_label(k) for k in before}, {kernel_label(k) for k in after}
    gone = sorted((k for k in main_b if k not in ran_m), key=main_b.get, reverse=True)
    new = sorted((k for k in main_m if k not in ran_b), key=main_m.get, reverse=True)
    if not gone and not new:
        return ""
    return f"{gone[0] if gone else '(none)'} → {new[0] if new else '(none)'}"


def _verdict(before: dict[str, float], after: dict[str, float], host_b: float,
             host_m: float, host_share_m: float) -> str:
    device_b, device_m = sum(before.values()), sum(after.values())
    timed_host = not (math.isnan(host_b) or math.isnan(host_m))  # older runs lack it
    switched = _switched(before, after)
    if switched:
        said = f"kernel choice: {switched}"
    elif device_m <= device_b * (1 + SAME_DEVICE):
        said = "same kernels, same device time" + (
            f"; the host took {1e6 * host_b:.0f} → {1e6 * host_m:.0f} us to issue a step"
            if timed_host else "")
    else:
        said = f"same kernels, {device_m / device_b:.2f}x the device time"
    if timed_host and host_share_m >= LAUNCH_BOUND:
        said += "; launch-bound in deterministic mode (its time is the host's)"
    return said


def what_changed(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                 baseline: str = BASELINE_MODE) -> pd.DataFrame:
    """Per case profiled in both modes (first processes of one run): both medians, both
    device times, both host times, the costliest kernel of each, and what changed."""
    on_gpu = frame[frame["gpu"] != "CPU"] if len(frame) else frame  # a CPU: all host
    rows = []
    for key, before, after in profiled_pairs(on_gpu, baseline, mode):
        kb, km = only_kernels(before.kernels_s), only_kernels(after.kernels_s)
        host_b, host_m = (float(r.host_s) if r.host_s is not None else math.nan
                          for r in (before, after))
        rows.append({
            "env": key[0], "run_id": key[1], "case_id": key[2],
            "default_ms": 1e3 * before.median_s, "mode_ms": 1e3 * after.median_s,
            "device_default_ms": 1e3 * sum(kb.values()),
            "device_mode_ms": 1e3 * sum(km.values()),
            "host_default_ms": 1e3 * host_b, "host_mode_ms": 1e3 * host_m,
            "kernel_default": kernel_label(max(kb, key=kb.get)),  # the costliest of each
            "kernel_mode": kernel_label(max(km, key=km.get)),
            "what_changed": _verdict(kb, km, host_b, host_m, after.host_share)})
    return pd.DataFrame(rows, columns=COLUMNS)
