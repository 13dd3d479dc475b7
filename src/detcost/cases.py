"""A Case is the identity of one measurement, apart from its samples (like
torch.utils.benchmark's TaskSpec): workload, parameters, pass, dtype, precision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .precision import skip_reason
from .workloads import get_workload

Params = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Case:
    workload: str
    params: Params  # in the workload's parameter order
    pass_: str
    dtype: str
    precision: str

    @property
    def family(self) -> str:
        return get_workload(self.workload).family

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def shape_id(self) -> str:
        """The workload and its parameters: 'conv2d(n=32,cin=64,...)'."""
        inner = ",".join(f"{k}={_fmt(v)}" for k, v in self.params)
        return f"{self.workload}({inner})"

    @property
    def id(self) -> str:
        return f"{self.shape_id}-{self.pass_}-{self.dtype}-{self.precision}"

    def skip_reason(self) -> str | None:
        """Why this combination means nothing, or None: such a case is recorded as skipped."""
        w = get_workload(self.workload)
        if self.pass_ not in w.passes:
            return f"{self.workload} has no {self.pass_} pass (it has: {', '.join(w.passes)})"
        if self.dtype not in w.dtypes:
            return f"{self.workload} does not run in {self.dtype}"
        return skip_reason(self.dtype, self.precision, w.precisions) or w.skip(
            self.param_dict, self.dtype)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def make_case(workload: str, params: dict[str, Any], pass_: str, dtype: str,
              precision: str) -> Case:
    w = get_workload(workload)
    full = {**w.defaults, **params}
    return Case(workload, tuple((k, full[k]) for k in w.params), pass_, dtype, precision)
