"""Each claim's verdict follows from the records: the same claim is supported by one set of
records and refuted by another, and says what to run when its data is missing."""

import pytest
from conftest import write_records

from detcost.analysis import claims
from detcost.analysis.load import load


def _write(folder, rows):
    """rows: (mode, process, case_id, family, workload, params, pass_, dtype, precision,
    digest, distinct_digests, error_vs_float64)."""
    keys = ("mode", "process", "case_id", "family", "workload", "params", "pass_", "dtype",
            "precision", "digest", "distinct_digests", "error_vs_float64")
    return load([write_records(folder, [{**dict(zip(keys, row, strict=True)),
                                                "repeats": 4} for row in rows])])


def _verdict(claim, data):
    return claim(data).verdict


def test_inference_repeatability_is_refuted_by_one_varying_inference(tmp_path):
    steady = [("default", 1, "vit(b=1)-fwd-bfloat16-highest", "model", "vit", {}, "fwd",
               "bfloat16", "highest", "d", 1, None)]
    assert _verdict(claims.inference_repeatable, _write(tmp_path / "a", steady)) == \
        claims.SUPPORTED
    varying = [*steady, ("default", 1, "gpt(b=64)-fwd-bfloat16-highest", "model", "gpt", {},
                         "fwd", "bfloat16", "highest", "e", 3, None)]
    verdict = claims.inference_repeatable(_write(tmp_path / "b", varying))
    assert verdict.verdict == claims.REFUTED and verdict.cases == (varying[1][2],)
    assert "1 of 2 inference steps" in verdict.figures


def test_benchmark_claim_compares_tuned_processes_with_default(tmp_path):
    def run(name, tuned_second):
        rows = []
        for mode, second in (("default", "x"), ("tuned", tuned_second)):
            for process, digest in ((1, "x"), (2, second)):
                rows.append((mode, process, "conv2d(n=1)-fwd-float32-highest", "conv",
                             "conv2d", {}, "fwd", "float32", "highest", digest, 1, None))
        return _write(tmp_path / name, rows)

    assert _verdict(claims.benchmark_varies, run("varies", "y")) == claims.SUPPORTED
    assert _verdict(claims.benchmark_varies, run("same", "x")) == claims.REFUTED
    one_process = _write(tmp_path / "one", [("tuned", 1, "conv2d(n=1)-fwd-float32-highest",
                                             "conv", "conv2d", {}, "fwd", "float32",
                                             "highest", "x", 1, None)])
    assert claims.benchmark_varies(one_process).figures.startswith("run the conv family")


def test_precision_claim_reads_the_error_against_float64(tmp_path):
    rows = [("default", 1, f"matmul(m=8)-fwd-float32-{p}", "matmul", "matmul", {}, "fwd",
             "float32", p, "d", 1, err) for p, err in (("highest", 1e-7), ("high", 3e-4))]
    verdict = claims.high_precision_is_maximal(_write(tmp_path / "a", rows))
    assert verdict.verdict == claims.REFUTED and "median 3000x" in verdict.figures
    same = [(*r[:-1], 1e-7) for r in rows]
    assert _verdict(claims.high_precision_is_maximal, _write(tmp_path / "b", same)) == \
        claims.SUPPORTED


@pytest.mark.parametrize(("fragmented", "expected"), [("a", claims.REFUTED),
                                                      ("b", claims.SUPPORTED)])
def test_allocation_claim_compares_histories_of_repeatable_ops(tmp_path, fragmented,
                                                               expected):
    rows = [("default", 1, f"after_allocations(op=sum,history={h})-fwd-float32-highest",
             "claims", "after_allocations", {"op": "sum", "history": h}, "fwd", "float32",
             "highest", d, 1, None) for h, d in (("fresh", "a"), ("fragmented", fragmented))]
    assert _verdict(claims.allocation_changes_results, _write(tmp_path, rows)) == expected


def test_dropout_and_cudnn_claims(tmp_path):
    rows = [("default", r, "dropout(n=8)-fwd-float32-highest", "claims", "dropout", {},
             "fwd", "float32", "highest", "m", 1, None) for r in (1, 2)]
    rows += [("cudnn-deterministic", 1, "scatter_add(size=8)-fwd-float32-highest", "scatter",
              "scatter_add", {}, "fwd", "float32", "highest", "s", 2, None)]
    data = _write(tmp_path, rows)
    assert _verdict(claims.seeded_dropout_reproducible, data) == claims.SUPPORTED
    verdict = claims.cudnn_deterministic_enough(data)
    assert verdict.verdict == claims.REFUTED and "families: scatter" in verdict.figures


def test_judge_gives_every_claim_per_environment(two_gpu_results):
    table = claims.judge(load([two_gpu_results / "raw"]))
    assert len(table) == 2 * len(claims.CLAIMS)
    assert set(table["verdict"]) <= {claims.SUPPORTED, claims.REFUTED, claims.NOT_MEASURED}
