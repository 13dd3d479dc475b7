import pytest

from detcost.cases import make_case
from detcost.errors import DetcostError
from detcost.profile import load_profile, parse_profile

GOOD = """
name = "mine"
[measure]
rounds = 4
[defaults]
dtypes = ["float32", "bfloat16"]
[[cases]]
workload = "conv2d"
params = { n = 2, layout = ["nchw", "channels_last"] }
passes = ["fwd", "fwdbwd"]
precisions = ["highest", "high"]
"""


def test_lists_are_swept_and_defaults_fill_the_rest():
    p = parse_profile(GOOD, "mine.toml")
    assert p.name == "mine" and p.measure.rounds == 4 and p.measure.repeats == 5
    assert len(p.cases) == 2 * 2 * 2 * 2  # layouts x passes x dtypes x precisions
    case = p.cases[0]
    assert case.param_dict["n"] == 2 and case.param_dict["cin"] == 64  # default kept
    assert case.id.startswith("conv2d(n=2,cin=64,")
    skipped = [c for c in p.cases if c.skip_reason()]
    assert {c.dtype for c in skipped} == {"bfloat16"}
    assert all(c.precision == "high" for c in skipped)


def test_duplicate_cases_across_groups_are_kept_once():
    text = GOOD + '\n[[cases]]\nworkload = "conv2d"\nparams = { n = 2 }\n'
    assert len(parse_profile(text, "x").cases) == 16


@pytest.mark.parametrize(("snippet", "message"), [
    ('[[cases]]\nworkload = "conv4d"',
     r"\[\[cases\]\] #1: unknown workload 'conv4d' \(allowed: matmul, conv2d"),
    ('[[cases]]\nworkload = "conv2d"\nparams = { kernel = 3 }',
     "unknown parameter of conv2d 'kernel'"),
    ('[[cases]]\nworkload = "conv2d"\ndtypes = ["float64"]', "unknown dtype 'float64'"),
    ('[[cases]]\nworkload = "conv2d"\nprecisions = ["low"]', "unknown precision 'low'"),
    ('[[cases]]\nworkload = "conv2d"\npasses = ["bwd"]', "unknown pass 'bwd'"),
    ('[[cases]]\nworkload = "conv2d"\nshape = 1', "unknown key 'shape'"),
    ('[[cases]]\nparams = {}', "missing 'workload'"),
    ('[measure]\nrounds = "many"\n[[cases]]\nworkload = "conv2d"', "rounds = 'many' is not"),
    ('[measure]\nrepeats = 1\n[[cases]]\nworkload = "conv2d"', "repeats = 1 is not allowed"),
    ('[measure]\nknob_processes = 0\n[[cases]]\nworkload = "conv2d"',
     "knob_processes = 0 is not allowed: an integer >= 1: processes for each mode other"),
    ('name = "x"', "needs at least one"),
    ('[[cases]\nworkload = 1', "not valid TOML"),
    ('colour = 1\n[[cases]]\nworkload = "conv2d"', "unknown key 'colour'"),
])
def test_malformed_profiles_get_one_line_errors(snippet, message):
    with pytest.raises(DetcostError, match=message) as info:
        parse_profile(snippet, "bad.toml")
    assert "\n" not in str(info.value)


def test_builtin_profiles_load_and_unknown_names_fail(tmp_path):
    from detcost.workloads import FAMILIES, WORKLOADS

    smoke, standard, full, dist = (load_profile(n) for n in ("smoke", "standard", "full",
                                                               "distributed"))
    assert {c.workload for c in smoke.cases} == set(WORKLOADS)  # smoke touches everything
    # full is for one GPU; the distributed family has a profile of its own, for several
    local = {n for n, w in WORKLOADS.items() if w.family != "distributed"}
    assert {c.workload for c in full.cases} == local
    assert {c.family for c in dist.cases} == {"distributed"}
    # standard holds what users pay for: model steps and GEMMs beside the op families
    assert {c.family for c in standard.cases} == {"model", "matmul", "conv", "attention",
                                                  "scatter", "claims"}
    assert {c.workload for c in standard.cases if c.family == "model"} == {"vit", "resnet",
                                                                          "gpt"}
    assert set(FAMILIES) >= {"matmul", "pooling", "resample", "padding", "loss", "scan",
                             "vision"}
    assert len(full.cases) > len(standard.cases)
    with pytest.raises(DetcostError, match="neither a built-in"):
        load_profile("huge")
    path = tmp_path / "p.toml"
    path.write_text(GOOD)
    assert load_profile(str(path)).name == "mine"


def test_sample_takes_runnable_cases_of_every_family():
    sample = load_profile("standard").sample(per_family=2)
    assert len(sample) == 12
    assert all(not c.skip_reason() for c in sample)
    assert {c.family for c in sample} == {"model", "matmul", "conv", "attention", "scatter",
                                          "claims"}


def test_case_skips_passes_the_workload_lacks():
    case = make_case("bincount", {}, "fwdbwd", "float32", "highest")
    assert "no fwdbwd pass" in case.skip_reason()


def test_a_workload_profile_keeps_every_measure_setting():
    from detcost.measuring import Measure
    from detcost.profile import workloads_profile_text

    measure = Measure(target=0.01, kernel_tables=False,
                      families=(("model", (("max_time_s", 2.0), ("min_round_ms", 100.0))),))
    again = parse_profile(workloads_profile_text(["scatter_add"], measure), "user.toml")
    assert again.measure == measure


SCOPED = GOOD + """
modes = ["default", "deterministic"]
[[cases]]
workload = "scatter_add"
params = { size = 64 }
processes = 1
"""


def test_a_group_s_scope_says_which_modes_and_processes_measure_it():
    p = parse_profile(SCOPED, "scoped.toml")
    conv = next(c for c in p.cases if c.workload == "conv2d")
    scatter = next(c for c in p.cases if c.workload == "scatter_add")
    assert p.measures(conv, "deterministic", 2) and not p.measures(conv, "tuned", 1)
    assert p.measures(scatter, "tuned", 1) and not p.measures(scatter, "default", 2)


def test_a_case_two_groups_scope_differently_is_measured_wherever_either_measures_it():
    text = SCOPED + '[[cases]]\nworkload = "conv2d"\nparams = { n = 2 }\nmodes = "tuned"\n'
    p = parse_profile(text, "x")
    conv = next(c for c in p.cases if c.id.startswith("conv2d(n=2,cin=64,") and
                c.dtype == "float32" and c.precision == "highest" and c.pass_ == "fwd"
                and c.param_dict["layout"] == "nchw")
    assert p.measures(conv, "tuned") and p.measures(conv, "default")
    assert not p.measures(conv, "cublas-workspace")


@pytest.mark.parametrize(("scope", "message"), [
    ('modes = ["fastest"]', r"unknown mode 'fastest' \(allowed: default, deterministic"),
    ("modes = []", "modes = \\[\\] measures nothing"),
    ("processes = 0", "processes = 0 is not allowed"),
    ('processes = "two"', "processes = 'two' is not allowed"),
])
def test_a_malformed_scope_is_one_line_naming_what_is_allowed(scope, message):
    with pytest.raises(DetcostError, match=message) as info:
        parse_profile(f'[[cases]]\nworkload = "conv2d"\n{scope}\n', "bad.toml")
    assert "\n" not in str(info.value) and "[[cases]] #1" in str(info.value)


def test_the_unstable_profile_measures_full_cases_with_their_kernel_tables():
    """docs/profiles/unstable.toml investigates cases that moved between starts: each must be
    a case of `full` (the same id, so that its records sit beside full's), and each family
    it names takes kernel tables."""
    from pathlib import Path

    from detcost.workloads import get_workload

    path = Path(__file__).resolve().parents[1] / "docs" / "profiles" / "unstable.toml"
    unstable, full = load_profile(str(path)), load_profile("full")
    assert {c.id for c in unstable.cases} <= {c.id for c in full.cases}
    assert all(unstable.measure.takes_kernel_table(c.family,
                                                   get_workload(c.workload).kernel_table)
               for c in unstable.cases)


def test_full_times_the_knob_modes_in_one_process_and_default_and_deterministic_in_two():
    """The audit is `--profile full` as it stands: the issue's two processes for default and
    deterministic mode, one for each knob mode."""
    from detcost.modes import MODES, is_knob_mode

    full, standard = load_profile("full").measure, load_profile("standard").measure
    counts = {m: full.processes_of(is_knob_mode(m), full.processes) for m in MODES}
    assert counts.pop("default") == counts.pop("deterministic") == 2
    assert set(counts.values()) == {1}
    assert standard.processes_of(True, standard.processes) == 2  # standard: every mode twice
    assert full.processes_of(True, 3) == 1 and full.processes_of(False, 3) == 3
    # a profile without the key describes itself as before: its runs still resume
    assert "knob_processes" not in standard.describe()
    assert full.describe()["knob_processes"] == 1
