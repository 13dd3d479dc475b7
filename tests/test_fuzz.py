"""Property-based: no profile and no results line, however malformed, gives a traceback or
loses a record that was already recorded."""

import json
import string
import warnings

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detcost.analysis.load import load
from detcost.errors import DetcostError, ResultsWarning
from detcost.profile import Profile, parse_profile
from detcost.runs.records import Header, Record, append, read_run_file

NAMES = st.sampled_from(["conv2d", "sdpa", "scatter_add", "mha", "put", "bincount", "nope",
                         "n", "cin", "hw", "k", "groups", "layout", "backend", "causal",
                         "bins", "size", "reduce", "rounds", "repeats", "processes", "seed",
                         "warmup_ms", "min_round_ms", "passes", "dtypes", "precisions",
                         "float32", "bfloat16", "fwd", "fwdbwd", "highest", "high", "nchw"])
SCALARS = st.one_of(st.integers(-3, 70), st.floats(allow_nan=True), st.booleans(), NAMES,
                    st.text(string.printable, max_size=8))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3))


def _toml(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


TABLE = st.dictionaries(NAMES, VALUES, max_size=4)
GROUP = st.fixed_dictionaries(
    {"workload": st.one_of(NAMES, SCALARS)},
    optional={"params": st.one_of(TABLE, SCALARS), "passes": VALUES, "dtypes": VALUES,
              "precisions": VALUES, "colour": SCALARS})


@st.composite
def profiles(draw) -> str:
    lines = []
    for key, value in draw(st.dictionaries(st.sampled_from(["name", "description", "x"]),
                                           VALUES, max_size=2)).items():
        lines.append(f"{key} = {_toml(value)}")
    for table in draw(st.lists(st.sampled_from(["measure", "defaults"]), unique=True)):
        lines.append(f"[{table}]")
        lines += [f"{json.dumps(k)} = {_toml(v)}" for k, v in draw(TABLE).items()]
    for group in draw(st.lists(GROUP, max_size=3)):
        lines.append("[[cases]]")
        lines += [f"{json.dumps(k)} = {_toml(v)}" for k, v in group.items()]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_any_profile_is_a_profile_or_one_line_error(text):
    try:
        profile = parse_profile(text, "fuzz.toml")
    except DetcostError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("profile fuzz.toml")
        return
    assert isinstance(profile, Profile) and profile.cases
    for case in profile.cases:  # what passed the checks is buildable in principle
        assert all(v is not None for _, v in case.params)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_profile_or_one_line_error(text):
    try:
        parse_profile(text, "fuzz.toml")
    except DetcostError as exc:
        assert str(exc).startswith("profile fuzz.toml")


JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                              st.text(max_size=5)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.text(max_size=5), inner,
                                                            max_size=3)), max_leaves=8)
FIELDS = st.sampled_from([f for f in Record.__dataclass_fields__ if f != "kind"])
JUNK = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
    st.text(max_size=40).map(lambda t: t.replace("\n", " ").encode()),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.tuples(FIELDS, JSON).map(lambda fv: json.dumps({**GOOD_RECORD, fv[0]: fv[1]}).encode()),
)
GOOD_RECORD = {"run_id": "r", "mode": "default", "case_id": "c", "family": "scatter",
               "workload": "put", "params": {}, "pass_": "fwd", "dtype": "float32",
               "precision": "highest", "status": "ok", "times_s": [1e-3, 2e-3],
               "iterations": 1, "work_unit": "GB/s", "work_amount": 1.0, "repeats": 2,
               "distinct_digests": 1, "kind": "record", "schema_version": 2}


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 5), JUNK), max_size=6), st.binary(max_size=30))
def test_junk_lines_never_lose_a_record(tmp_path_factory, junk, torn_tail):
    path = tmp_path_factory.mktemp("fuzz") / "default.jsonl"
    append(path, Header(run_id="r", mode="default", mode_description="", knobs={},
                        environment={"gpu": "G", "torch": "2"}, profile={}, started_at="t"))
    good = [f"case-{i}" for i in range(6)]
    inserts = dict(junk)
    for i, case in enumerate(good):
        if i in inserts:
            with path.open("ab") as f:
                f.write(inserts[i] + b"\n")
        append(path, Record(**{**GOOD_RECORD, "case_id": case, "kind": "record"}))
    with path.open("ab") as f:
        f.write(torn_tail.replace(b"\n", b" "))  # a last line torn by a kill
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResultsWarning)
        _, records = read_run_file(path)
        data = load([path])
    read = [r.case_id for r in records]
    assert [c for c in read if c in good] == good  # every good record, in order
    assert set(good) <= set(data["case_id"])
