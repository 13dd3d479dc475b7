"""Which run stands for a case: per environment and case, the newest run that measured
the modes being compared, so that both sides of a comparison share one run."""

from __future__ import annotations

import pandas as pd

from ..modes import BASELINE_MODE, DETERMINISTIC_MODE


def run_order(frame: pd.DataFrame) -> pd.Series:
    """Per run id, a key that sorts runs by when they started (the run id breaks ties)."""
    start = frame.groupby("run_id")["started_at"].min()
    return start.astype(str) + " " + start.index.to_series()

def _newest_run_mask(frame: pd.DataFrame, modes: tuple[str, ...]) -> pd.Series:
    """Per environment and case, the rows of the newest run that measured every one of
    `modes`, or, where no run did, of the newest run."""
    keys = [frame["env"], frame["case_id"], frame["run_id"]]
    has_all = (frame["mode"].where(frame["mode"].isin(modes))
               .groupby(keys).transform("nunique") == len(set(modes)))
    return _newest(frame, has_all.map({True: "1 ", False: "0 "}))

def _newest(rows: pd.DataFrame, preferred: pd.Series | str = "", runs=None) -> pd.Series:
    """Per environment and case, the rows of the newest run (by `runs`' start times, `rows`
    by default), among those `preferred` ranks first."""
    rank = preferred + rows["run_id"].map(run_order(rows if runs is None else runs))
    return rank == rank.groupby([rows["env"], rows["case_id"]]).transform("max")

def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """The records of the run that stands for each case in each environment: the newest run
    that measured it in both default and deterministic mode (else the newest run). The
    headline views show one measurement per case; older runs feed the stability view, and
    a newer run of single-knob modes alone feeds newest_pairs without hiding the older
    run's deterministic mode."""
    if frame.empty:
        return frame
    return frame[_newest_run_mask(frame, (BASELINE_MODE, DETERMINISTIC_MODE))]

def newest_pairs(frame: pd.DataFrame, mode: str = DETERMINISTIC_MODE,
                 baseline: str = BASELINE_MODE) -> pd.DataFrame:
    """The records behind comparing `mode` with `baseline`: per environment and case, both
    modes from the newest run that measured both, so that the two sides share one run
    (one machine start) and a run of a few modes adds its comparisons without hiding the
    others."""
    pair = frame[frame["mode"].isin([mode, baseline])] if len(frame) else frame
    if pair.empty:
        return pair
    return pair[_newest_run_mask(pair, (baseline, mode))]
