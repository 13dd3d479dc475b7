"""The terminal views: each renders a value computed elsewhere (a run's outcomes, Findings,
a RunDiff, a merge) as a rich table. Nothing here computes a comparison."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..failures import STATUSES
from ..modes import BASELINE_MODE, DETERMINISTIC_MODE
from ..report.text import microseconds, missing, stability_sentence, times

console = Console(stderr=True)


def stdout() -> Console:
    """Tables for stdout; wide when piped, so that case ids are not cut."""
    return Console() if sys.stdout.isatty() else Console(width=240)


def say(text: str, style: str = "") -> None:
    """One line to the user on stderr (markup in `text` is escaped)."""
    line = escape(text)
    console.print(f"[{style}]{line}[/{style}]" if style else line, highlight=False,
                  soft_wrap=True)


CPU_NOTE = ("No CUDA GPU here: running {what} on the CPU to check that the flow works, in the "
            "modes whose knobs act on a CPU unless --mode names others. CPU timings say "
            "nothing about deterministic mode on a GPU.")


def cpu_note(cuda: bool, asked: str | None, name: str) -> None:
    """Once the profile is known to be good, say once that CPU numbers are not the point."""
    if cuda:
        return
    what = f"profile {name!r}" if asked else "the small 'smoke' profile"
    say(CPU_NOTE.format(what=what), "yellow")


def merged(done, title: str) -> None:
    """What a merge did: each run folder found, where it went, and whether it was copied."""
    view = Table(title=escape(title))
    for col in ("from", "to", "what"):
        view.add_column(col)
    for m in done:
        view.add_row(escape(str(m.source)), escape(m.destination.name), m.action)
    stdout().print(view)


def outcomes(done) -> None:
    limited = any(o.stopped for o in done)
    table = Table(title="Cases per mode and process")
    for col in ("mode", "process", "cases", *STATUSES, "restarts", "seconds",
                *(["time limit"] if limited else [])):
        table.add_column(col, justify="left" if col == "mode" else "right")
    for o in done:
        limit = ("not started" if not o.started else "stopped" if o.stopped else "",)
        table.add_row(o.mode, str(o.process), str(o.planned),
                      *(str(o.statuses.get(s, 0)) for s in STATUSES),
                      str(o.restarts), f"{o.seconds:.0f}", *(limit if limited else ()))
    stdout().print(table)


def top_slowdowns(comparison, top: int = 10) -> None:
    ok = comparison[comparison["status"] == "ok"]
    if ok.empty:
        console.print(f"No case was measured in both {BASELINE_MODE} and "
                      f"{DETERMINISTIC_MODE} mode: no slowdown to show.")
        return
    ok = ok.astype({"slowdown": float}).nlargest(top, "slowdown")
    table = Table(title=f"Costliest cases ({DETERMINISTIC_MODE} / {BASELINE_MODE})")
    for col in ("case", "slowdown", "95% rerun interval", "default digests"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for r in ok.itertuples():
        table.add_row(escape(r.case_id), f"{r.slowdown:.2f}x",
                      f"{r.slowdown_low:.2f}-{r.slowdown_high:.2f}",
                      f"{r.distinct_digests_base}/{r.repeats_base}")
    stdout().print(table)


def decision(table, budget: float) -> None:
    view = Table(title=f"Deterministic mode: cost and verdict (budget {budget:.2f}x)")
    for col in ("environment", "family", "verdict", "geomean", "worst", "worst case",
                "nondet. by default", "unsupported"):
        view.add_column(col)
    for r in table.itertuples():
        view.add_row(escape(r.env), r.family, r.verdict, times(r.geomean_slowdown),
                     times(r.worst_slowdown), escape(r.worst_case),
                     f"{r.nondeterministic_by_default}/{r.default_measured}",
                     str(r.unsupported))
    stdout().print(view)


def run_diff(diff) -> None:
    view = Table(title=f"{escape(diff.run_a)} (A) against {escape(diff.run_b)} (B)")
    for col in ("case", "slowdown A", "slowdown B", "B/A slowdown", "B against A",
                "B/A default time", "steady"):
        view.add_column(col, justify="left" if col == "case" else "right")
    for r in diff.rows.sort_values("slowdown_b_over_a", ascending=False).itertuples():
        view.add_row(escape(r.case_id), times(r.slowdown_a), times(r.slowdown_b),
                     times(r.slowdown_b_over_a), r.change or "-",
                     times(r.default_time_b_over_a), "yes" if r.steady else "no")
    out = stdout()
    out.print(view)
    counts = {c: int((diff.rows["change"] == c).sum()) for c in ("costlier", "cheaper", "same")}
    out.print(f"B against A: {counts['costlier']} costlier, {counts['cheaper']} cheaper and "
              f"{counts['same']} the same within their 95% intervals")


def stability(diff) -> None:
    out = stdout()
    out.print(escape(stability_sentence(diff.summary)))
    widened = not missing(diff.summary.get("inside_widened"))
    view = Table(title="Cases whose slowdown in B lies outside A's interval"
                 + (" widened for the spread between machine starts" if widened else ""))
    for col in ("case", "slowdown A", "A's bootstrap interval", "slowdown B", "|log B/A|",
                "steady"):
        view.add_column(col, justify="left" if col == "case" else "right")
    for r in diff.disagree.itertuples():
        view.add_row(escape(r.case_id), times(r.slowdown_a),
                     f"{r.slowdown_low_a:.2f}-{r.slowdown_high_a:.2f}", times(r.slowdown_b),
                     f"{r.abs_log_ratio:.3f}", "yes" if r.steady else "no")
    out.print(view)


def validation(table) -> None:
    out = Table(title="Timer validation: the suite's synchronised clock against CUDA events "
                      "(alternating rounds), and pytest-benchmark's run against do_bench")
    for col in ("case", "pytest-benchmark", "clock", "events", "clock/events", "do_bench",
                "pytest-benchmark/do_bench"):
        out.add_column(col, justify="left" if col == "case" else "right")
    for r in table.itertuples():
        out.add_row(r.case_id, microseconds(r.suite_median_s), microseconds(r.clock_median_s),
                    microseconds(r.events_median_s), f"{r.suite_over_events:.3f}",
                    microseconds(r.do_bench_median_s), f"{r.suite_over_do_bench:.3f}")
    stdout().print(out)
    judged = table[table["judged"]]
    console.print(f"{int(judged['within_3pct'].sum())} of {len(judged)} cases of 100 us or "
                  "more agree with CUDA events within 3%")
