"""One value that holds every table a view shows, computed once from the records and a
budget: the dashboard, the README findings and the CLI tables render it and nothing else,
so one case shows one number everywhere, and each row names its run (`run_id`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from ..budget import DEFAULT_BUDGET
from .answer import answer_table
from .calibration import Calibration, Coverage, Spread, calibrate, widen
from .claims import judge
from .compare import across_machines, across_processes, compare_modes, current_comparisons
from .decision import decision_table
from .diff import EnvironmentDiff, environment_diffs
from .doc import doc_against_behaviour
from .explain import what_changed
from .select import latest
from .stability import Steadiness, rerun_pairs, stability, steadiness
from .summaries import (
    GpuDifferences,
    GpuNoise,
    Promise,
    TimerCheck,
    below_ceiling,
    costliest,
    environments,
    gpu_differences,
    gpu_noise,
    knob_cases,
    knob_costs,
    launch_bound,
    noisy_cases,
    nondeterminism_by_family,
    promise,
    timer_checks,
    unsupported_ops,
)
from .tables import (
    batch_invariance,
    compile_costs,
    distributed_table,
    kernel_growth,
    validation_table,
)


@dataclass(frozen=True)
class StabilityPair:
    """Two runs of one profile in one environment, the newer against the older."""

    env: str
    run_a: str
    run_b: str
    rows: pd.DataFrame  # compare_runs of the two
    summary: dict
    disagree: pd.DataFrame


@dataclass(frozen=True)
class Findings:
    budget: float
    records: pd.DataFrame  # every record, timer validation included
    measured: pd.DataFrame  # every record of every run, validation runs left out
    main: pd.DataFrame  # the run that stands for each case (select.latest)
    comparison: pd.DataFrame  # deterministic against default, per case of `main`
    knobs: pd.DataFrame  # every mode against its own run's default (current_comparisons)
    decision: pd.DataFrame
    validation: pd.DataFrame
    environments: pd.DataFrame
    promise: Promise
    spread: pd.DataFrame  # two default-mode processes per case (across_processes)
    nondeterminism: pd.DataFrame
    costliest: pd.DataFrame
    unsupported: pd.DataFrame
    doc: pd.DataFrame
    knob_geomeans: pd.DataFrame
    knob_counts: pd.DataFrame
    knob_cross_machine: int
    knob_cases: pd.DataFrame
    compiled: pd.DataFrame
    claims: pd.DataFrame
    distributed: pd.DataFrame
    invariance: pd.DataFrame
    kernel_growth: pd.DataFrame
    what_changed: pd.DataFrame
    gpu_differences: GpuDifferences | None
    timer_checks: list[TimerCheck]
    gpu_noise: list[GpuNoise]
    noisy: pd.DataFrame
    noisy_short_share: float
    below_ceiling: pd.DataFrame
    stability: list[StabilityPair] = field(default_factory=list)
    environment_diffs: list[EnvironmentDiff] = field(default_factory=list)
    # Between runs: the extra spread per family (log units) that widens every interval,
    # each run pair's coverage under an estimate that left it out, and the cases that moved
    # beyond their widened interval (calibration.py).
    between_runs: Spread = field(default_factory=dict)
    coverage: list[Coverage] = field(default_factory=list)
    unstable: pd.DataFrame = field(default_factory=pd.DataFrame)
    launch_bound: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the first screen: per named workload, environment and dtype (answer.py)
    answer: pd.DataFrame = field(default_factory=pd.DataFrame)
    # per environment: the share of default-mode cases with IQR under 2% of the median
    steady_by_env: dict[str, Steadiness] = field(default_factory=dict)

    @property
    def cross_env(self) -> bool:
        return self.main["env"].nunique() > 1 if len(self.main) else False

    @property
    def across_machines(self) -> int:
        """Measured cases whose two modes ran on different machine starts."""
        return across_machines(self.comparison)

    def only(self, env: str) -> Findings:
        """The same findings for one environment: every table's rows of it. Nothing is
        computed again, so an environment's page shows the index's numbers."""
        def keep(value):
            if isinstance(value, pd.DataFrame) and "env" in value.columns:
                return value[value["env"] == env]
            if isinstance(value, Promise):
                return Promise(*(keep(getattr(value, f.name))
                                 for f in dataclasses.fields(Promise)))
            return value

        changed = {f.name: keep(getattr(self, f.name)) for f in dataclasses.fields(self)}
        changed["stability"] = [p for p in self.stability if p.env == env]
        changed["environment_diffs"] = [d for d in self.environment_diffs
                                        if env in (d.env_a, d.env_b)]
        return dataclasses.replace(self, **changed)


def _stability_pairs(measured: pd.DataFrame, calibration: Calibration
                     ) -> list[StabilityPair]:
    """The newest pair of each profile, from the rows the calibration compared."""
    newest = set(rerun_pairs(measured))
    found = []
    for p in calibration.pairs:
        if (p.env, p.run_a, p.run_b) not in newest:
            continue
        both = p.cases_of(measured)
        rows = calibration.rows_of(p)
        if rows.empty:
            continue  # no case both runs measured in both modes: nothing to say
        summary, disagree = stability(both, p.run_a, p.run_b, rows=rows,
                                      widened=calibration.inside_without(rows, p.run_a,
                                                                         p.run_b))
        found.append(StabilityPair(p.env, p.run_a, p.run_b, rows, summary, disagree))
    return found


def compute_findings(records: pd.DataFrame, budget: float = DEFAULT_BUDGET) -> Findings:
    """Every table of every view, from the records of a results tree."""
    measured = records[records["validation"].isna()]  # every run, for views that pick pairs
    main = latest(measured)
    calibration = calibrate(measured)
    spread, unstable = calibration.spread, calibration.unstable
    comparison = _marked(widen(compare_modes(main), spread, unstable), unstable)
    knobs = _marked(widen(current_comparisons(measured), spread, unstable), unstable)
    checked = pd.concat([records[records["validation"].notna()], main])
    geomeans, counts, cross_machine = knob_costs(knobs)
    kept = promise(main)
    noisy, short = noisy_cases(checked)
    return Findings(
        budget=budget, records=records, measured=measured, main=main, comparison=comparison,
        knobs=knobs, decision=decision_table(comparison, budget),
        validation=validation_table(records), environments=environments(main),
        promise=kept, spread=across_processes(main, "default"),
        nondeterminism=nondeterminism_by_family(main), costliest=costliest(comparison),
        unsupported=unsupported_ops(main), doc=doc_against_behaviour(main),
        knob_geomeans=geomeans, knob_counts=counts, knob_cross_machine=cross_machine,
        knob_cases=knob_cases(knobs), compiled=compile_costs(measured),
        claims=judge(measured), distributed=distributed_table(measured),
        invariance=batch_invariance(main), kernel_growth=kernel_growth(measured),
        what_changed=what_changed(measured),
        gpu_differences=gpu_differences(comparison), timer_checks=timer_checks(checked),
        gpu_noise=gpu_noise(checked), noisy=noisy, noisy_short_share=short,
        below_ceiling=below_ceiling(checked),
        stability=_stability_pairs(measured, calibration),
        environment_diffs=environment_diffs(comparison), between_runs=spread,
        coverage=calibration.coverage, unstable=unstable,
        launch_bound=launch_bound(main),
        answer=answer_table(comparison, knobs, kept.default_across),
        steady_by_env={str(env): steadiness(g) for env, g in main.groupby("env")})


def _marked(comparison: pd.DataFrame, unstable: pd.DataFrame) -> pd.DataFrame:
    """The comparison with `unstable` set on the cases that moved between runs."""
    moved = set(zip(unstable["env"], unstable["case_id"], strict=True)) if len(
        unstable) else set()
    return comparison.assign(unstable=[(e, c) in moved for e, c in zip(
        comparison["env"], comparison["case_id"], strict=True)])
