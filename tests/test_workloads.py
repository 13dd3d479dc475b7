import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from detcost.errors import DetcostError
from detcost.workloads import WORKLOADS, Setting, get_workload, make_step

CPU = torch.device("cpu")
SMALL = {
    "conv2d": {"n": 2, "cin": 8, "cout": 6, "hw": 10, "k": 3, "stride": 1, "groups": 1},
    "conv3d": {"n": 1, "cin": 4, "cout": 4, "depth": 4, "hw": 6},
    "conv_transpose2d": {"n": 2, "cin": 6, "cout": 4, "hw": 5},
    "sdpa": {"batch": 1, "heads": 2, "seq": 16, "head_dim": 8, "backend": "math"},
    "mha": {"batch": 2, "seq": 8, "embed": 16, "heads": 2},
    "scatter_add": {"size": 512, "bins": 16},
    "scatter_reduce": {"size": 512, "bins": 16, "reduce": "mean"},
    "index_add": {"rows": 64, "bins": 8, "width": 4},
    "index_put": {"size": 512, "bins": 16},
    "put": {"size": 512, "bins": 16},
    "bincount": {"size": 512, "bins": 16, "weighted": True},
    "embedding": {"num": 16, "dim": 4, "tokens": 64},
    "embedding_bag": {"num": 16, "dim": 4, "bags": 8, "bag_size": 3},
    "matmul": {"batch": 3, "m": 8, "k": 16, "n": 4},
    "pool": {"n": 1, "c": 2, "hw": 8, "depth": 4, "k": 2},
    "interpolate": {"n": 1, "c": 2, "hw": 6, "depth": 3},
    "grid_sample": {"n": 1, "c": 2, "hw": 6, "depth": 3},
    "pad": {"n": 1, "c": 2, "hw": 6, "depth": 4, "pad": 2},
    "cross_entropy": {"n": 2, "classes": 5, "hw": 4},
    "ctc_loss": {"batch": 2, "time": 20, "classes": 6, "target_length": 5},
    "cumsum": {"rows": 1, "cols": 256},
    "histc": {"rows": 1, "cols": 256, "bins": 16},
    "median": {"rows": 4, "cols": 33},
    "kthvalue": {"rows": 4, "cols": 33},
    "scatter": {"size": 512, "bins": 16},
    "index_copy": {"rows": 64, "bins": 8, "width": 4},
    "index_reduce": {"rows": 64, "bins": 8, "width": 4},
    "gather": {"size": 512, "bins": 16},
    "index_select": {"rows": 64, "bins": 8, "width": 4},
    "repeat_interleave": {"bins": 16, "width": 4, "repeats": 2},
    "roi": {"n": 2, "c": 8, "hw": 16, "rois": 6, "output": 2},
    "deform_conv2d": {"n": 1, "cin": 4, "cout": 4, "hw": 6, "k": 3},
    "resnet": {"depth": 18, "batch": 8, "image": 64, "classes": 10},
    "vit": {"batch": 2, "image": 32, "patch": 16, "layers": 2, "heads": 2, "hidden": 32,
            "classes": 10},
    "gpt": {"batch": 2, "seq": 16, "new_tokens": 4, "vocab": 64, "hidden": 32, "layers": 2,
            "heads": 2},
    "row_matmul": {"batch": 4, "k": 32, "n": 16},
    "dropout": {"n": 256},
    "collective": {"mb": 1},
    "ddp": {"batch": 2, "seq": 4, "hidden": 16, "heads": 2},
    "fsdp": {"batch": 2, "seq": 4, "hidden": 16, "heads": 2},
    "detection": {"batch": 1, "image": 128, "classes": 5, "boxes": 3},
    "after_allocations": {"n": 16, "blocks": 8},
    "row_softmax": {"batch": 4, "n": 64},
    "row_layernorm": {"batch": 4, "n": 64},
    "lm_serve": {"batch": 3, "seq": 8, "new_tokens": 3, "vocab": 64, "hidden": 32,
                 "layers": 2, "heads": 2},
}

# Every choice of the parameters that pick an op or a mode, through every pass.
CHOICES = [(name, key, value) for name, w in WORKLOADS.items()
           for key, spec in w.params.items() if spec.choices and key not in ("layout", "compile")
           for value in spec.choices]


def _single_rank_group(tmp_dir):
    """A gloo process group of one rank, for the distributed family in this process (torchrun
    launches of two ranks are tested in test_distributed.py)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo", init_method=f"file://{tmp_dir}/store", rank=0,
                                world_size=1)


def build(name, pass_="fwd", dtype="float32", reference=False, passes=("fwd", "fwdbwd"),
          **over):
    w = get_workload(name)
    if w.family == "distributed":
        import tempfile

        _single_rank_group(tempfile.mkdtemp())
    params = {**w.defaults, **SMALL[name], **over}
    setting = Setting(CPU, dtype, seed=3, reference=reference, passes=passes)
    problem = w.build(params, setting)
    return problem, make_step(problem, pass_, setting)


def test_every_workload_has_a_small_shape_here():
    assert set(SMALL) == set(WORKLOADS)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_each_pass_runs_and_returns_output_and_gradients(name):
    for pass_ in get_workload(name).passes:
        problem, step = build(name, pass_)
        outputs = step()
        if pass_ == "fwdbwd" and problem.train_step is not None:
            assert len(outputs) > 1  # the loss and a gradient per trainable parameter
        else:
            assert len(outputs) == 1 + (len(problem.grad_leaves) if pass_ == "fwdbwd" else 0)
        assert all(torch.isfinite(t.double()).all() for t in outputs)
        work = problem.work[pass_]
        assert work.amount > 0
        assert work.unit in ("TFLOP/s", "GB/s", "samples/s", "tokens/s")


@pytest.mark.parametrize(("name", "key", "value"), CHOICES)
def test_every_choice_runs_both_passes(name, key, value):
    over = {key: value}
    if name == "sdpa" and value in ("flash", "cudnn", "efficient"):
        pytest.skip("GPU-only SDPA backends")
    if name == "roi" and value == "ps_roi_align":
        over["c"] = 8  # divisible by output^2 = 4
    for pass_ in get_workload(name).passes:
        problem, step = build(name, pass_, **over)
        outputs = step()
        assert all(torch.isfinite(t.double()).all() for t in outputs if t.is_floating_point())
        assert problem.work[pass_].amount > 0


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_padding_and_grid_sample_dims(dims):
    _, step = build("pad", "fwdbwd", dims=dims, mode="replicate")
    assert step()[0].dim() == 2 + dims
    if dims > 1:
        _, step = build("grid_sample", "fwdbwd", dims=dims)
        assert step()[0].dim() == 2 + dims


def test_skewed_embedding_indices_concentrate_on_few_rows():
    _, step = build("embedding", "fwd", indices="skewed", tokens=1000, num=64)
    rows = step()[0]
    distinct = {tuple(r.tolist()) for r in rows}
    assert len(distinct) < 200  # most tokens share 8 rows


def test_matmul_flops_agree_with_torch_flop_counter():
    for op in ("mm", "linear", "addmm", "bmm"):
        for pass_ in ("fwd", "fwdbwd"):
            problem, step = build("matmul", pass_, op=op)
            counter = FlopCounterMode(display=False)
            with counter:
                step()
            assert problem.work[pass_].flops == pytest.approx(counter.get_total_flops(),
                                                              rel=0.02), (op, pass_)


# mha's inference forward takes torch's fused fast path, which the flop counter cannot see;
# inside, attention is forced to MATH so that its matmuls are counted. (Strided convolutions
# and grouped convolutions are left out: the counter overcounts their backward.)
@pytest.mark.parametrize(("name", "pass_"), [
    (n, p) for n in ("conv2d", "conv3d", "conv_transpose2d", "sdpa", "mha")
    for p in ("fwd", "fwdbwd") if (n, p) != ("mha", "fwd")])
def test_flop_counts_agree_with_torch_flop_counter(name, pass_):
    problem, step = build(name, pass_)
    counter = FlopCounterMode(display=False)
    with counter, sdpa_kernel([SDPBackend.MATH]):
        step()
    assert problem.work[pass_].flops == pytest.approx(counter.get_total_flops(), rel=0.02)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_float64_reference_computes_the_same_function(name):
    _, step = build(name, "fwd")
    _, ref_step = build(name, "fwd", reference=True)
    out, ref = step()[0], ref_step()[0]
    if name == "detection" and out.shape != ref.shape:
        return  # float64 keeps another number of boxes: no error to compare (variance.py)
    if out.is_floating_point():
        assert ref.dtype == torch.float64
        err = (out.double() - ref).norm() / ref.norm()
        # put without accumulate keeps whichever write lands last: that is its nondeterminism
        assert err < (2.0 if name == "put" else 1e-5)
    else:
        assert torch.equal(out, ref)


def test_reference_inputs_are_the_rounded_inputs_upcast():
    low = Setting(CPU, "bfloat16", seed=1).randn(64)
    ref = Setting(CPU, "bfloat16", seed=1, reference=True).randn(64)
    assert ref.dtype == torch.float64 and torch.equal(low.double(), ref)


def test_sdpa_skips_half_only_backends_in_float32():
    sdpa = get_workload("sdpa")
    assert "float16/bfloat16 only" in sdpa.skip({"backend": "flash"}, "float32")
    assert sdpa.skip({"backend": "efficient"}, "float32") is None


def test_layouts_change_memory_format_not_values():
    _, nchw = build("conv2d", layout="nchw")
    _, last = build("conv2d", layout="channels_last")
    assert torch.allclose(nchw()[0], last()[0], atol=1e-5)


def test_unknown_workload():
    with pytest.raises(DetcostError, match="unknown workload 'conv4d'"):
        get_workload("conv4d")


def test_conv_bytes_are_each_tensor_once():
    problem, _ = build("conv2d")  # n=2, cin=8, cout=6, hw=10, k=3, stride 1: output 10x10
    x, w, y = 2 * 8 * 100, 6 * 8 * 9, 2 * 6 * 100
    assert problem.work["fwd"].bytes == (x + w + y) * 4
    assert problem.work["fwdbwd"].bytes == (x + w + y + y + 2 * x + 2 * w) * 4


@pytest.mark.parametrize("name", ["resnet", "vit", "gpt"])
def test_a_model_runs_under_bfloat16_autocast(name):
    """Half types mean float32 weights under autocast: inputs, batch-norm calibration and
    the training step must all run so (a bfloat16 image once failed on every GPU)."""
    for pass_ in ("fwd", "fwdbwd"):
        _, step = build(name, pass_, dtype="bfloat16")
        assert all(torch.isfinite(t.double()).all() for t in step())


@pytest.mark.parametrize("name", ["resnet", "vit", "gpt"])
def test_a_models_training_step_restarts_from_the_same_state(name):
    """Weights, buffers and optimizer state are restored before each step: two steps give
    the same bits, and the weights really were updated by each."""
    problem, step = build(name, "fwdbwd")
    first, second = step(), step()
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert problem.work["fwdbwd"].flops > 2 * problem.work["fwd"].flops > 0


@pytest.mark.parametrize("name", ["resnet", "vit", "gpt"])
def test_a_model_counts_flops_only_for_the_pass_it_will_step(name):
    """Counting runs the step under FlopCounterMode (most of a second for a GPU decode):
    a worker builds each case for its one pass and counts that pass alone, the same count."""
    both, _ = build(name, "fwd")
    for pass_, other in (("fwd", "fwdbwd"), ("fwdbwd", "fwd")):
        alone, _ = build(name, pass_, passes=(pass_,))
        assert alone.work[pass_].flops == both.work[pass_].flops > 0
        assert alone.work[other].flops == 0
    # a kernel table's rebuild counts none: the case's record has them
    uncounted, step = build(name, "fwd", passes=())
    assert uncounted.work["fwd"].flops == 0 and step()


@pytest.mark.parametrize("name", ["resnet", "gpt"])
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_compile_wraps_the_step_and_not_the_reference_or_the_flop_count(name, monkeypatch):
    """compile=inductor runs the step through torch.compile (here with dynamo's eager
    backend: Inductor on a CPU takes minutes), gives the eager step's bits, and counts the
    FLOPs of the eager model; the float64 reference is never compiled. (Dynamo reads the
    .grad of a non-leaf while it traces the training step: a warning, not a failure.)"""
    compiled, real_compile = [], torch.compile

    def eager_backend_compile(model, **kwargs):
        compiled.append(model)
        return real_compile(model, backend="eager", **kwargs)

    monkeypatch.setattr(torch, "compile", eager_backend_compile)
    for pass_ in ("fwd", "fwdbwd"):
        compiled.clear()
        eager, eager_step = build(name, pass_, compile="eager")
        assert compiled == []
        problem, step = build(name, pass_, compile="inductor")
        assert len(compiled) == 1
        assert problem.work[pass_].flops == eager.work[pass_].flops > 0
        assert all(torch.equal(a, b) for a, b in zip(step(), eager_step(), strict=True))
        build(name, pass_, reference=True, compile="inductor")
        assert len(compiled) == 1
    torch._dynamo.reset()


def test_decode_reads_the_prompt_from_the_kv_cache():
    _, prefill = build("gpt", "fwd", phase="prefill")
    _, decode = build("gpt", "fwd", phase="decode")
    assert prefill()[0].shape == (2, 16, 64)   # batch, prompt tokens, vocab
    assert decode()[0].shape == (2, 4, 64)     # batch, new tokens, vocab
    problem, _ = build("gpt", "fwd", phase="decode")
    assert problem.work["fwd"].items == 2 * 4 and problem.work["fwd"].unit == "tokens/s"


@pytest.mark.parametrize("name", ["row_matmul", "row_softmax", "row_layernorm", "lm_serve"])
def test_a_served_request_is_the_same_in_every_batch(name):
    """The first row (prompt) is drawn alone, so it is the same input whatever the batch;
    only its result is returned, so the digests of two batch sizes compare the request."""
    outputs = {}
    for batch in (1, 5):
        _, step = build(name, "fwd", batch=batch)
        outputs[batch] = step()[0]
    assert outputs[1].shape == outputs[5].shape
    assert torch.allclose(outputs[1].double(), outputs[5].double(), rtol=1e-4, atol=1e-5)


def test_served_rows_keep_the_first_row():
    from detcost.workloads.invariance import served_rows

    one = served_rows(Setting(CPU, "float32", seed=1), 1, 6)
    many = served_rows(Setting(CPU, "float32", seed=1), 9, 6)
    assert many.shape == (9, 6) and torch.equal(one[0], many[0])
    assert not torch.equal(many[0], many[1])


def test_seeded_dropout_repeats_its_mask_and_drops_at_its_rate():
    _, step = build("dropout", "fwd", n=10000, rate=0.25)
    first, second = step()[0], step()[0]
    assert torch.equal(first, second)
    assert 0.2 < (first == 0).double().mean() < 0.3


@pytest.mark.parametrize("op", ["matmul", "sum", "conv2d"])
def test_an_allocation_history_keeps_the_values(op):
    _, fresh_step = build("after_allocations", "fwd", op=op, history="fresh")
    _, fragmented_step = build("after_allocations", "fwd", op=op, history="fragmented")
    assert torch.equal(fresh_step()[0], fragmented_step()[0])  # same values in, on a CPU
