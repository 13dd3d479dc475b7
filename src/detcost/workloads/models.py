"""Real models, measured as the ops are: torchvision's ResNet and ViT, and a decoder-only
language model built from torch.nn. Random weights from a fixed seed; nothing downloaded.

The fwd pass is inference (`eval()` under `inference_mode`; for the language model,
`phase` picks prefill of `seq` tokens or `new_tokens` decode steps with a KV cache). The
fwdbwd pass is a whole training step: forward, loss, backward, SGD step; it restores the
weights, buffers and optimizer state first, so every repeat starts from the same state and
a digest that differs means the arithmetic differed. bfloat16 and float16 mean float32
weights under autocast, as models train. FLOPs come from torch's FlopCounterMode;
throughput is in samples/s or tokens/s.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from .base import Param, Problem, Setting, Work, Workload

MODEL_PRECISIONS = ("highest", "high", "medium")


def _autocast(s: Setting):
    import torch

    if s.reference or s.dtype == "float32":
        return contextlib.nullcontext()
    return torch.autocast(s.device.type, dtype=getattr(torch, s.dtype))


def _seeded(make: Callable[[], Any], s: Setting):
    """The model made from the global RNG under the setting's seed (identical in every mode
    and process), in float32 (float64 for the reference), on the setting's device."""
    import torch

    state = torch.random.get_rng_state()
    torch.manual_seed(s.seed)
    try:
        # made on the device: a GPU draws a 124M-parameter model's initial weights in
        # milliseconds, where a CPU took seconds of every model case
        with torch.device(s.device):
            model = make()
    finally:
        torch.random.set_rng_state(state)
    return model.to(s.device, torch.float64 if s.reference else torch.float32)


def _counted_flops(step: Callable[[], Any], s: Setting) -> float:
    """FLOPs of one call, as torch's FlopCounterMode counts them (not for the reference)."""
    if s.reference:
        return 0.0
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return float(counter.get_total_flops())


def _widened(out, s: Setting):
    """Autocast's half-precision output in float32 (the reference stays float64)."""
    return out if s.reference else out.float()


class _Net:
    """The module a step calls: the eager model while a build counts FLOPs (FlopCounterMode
    sees eager ops only), then torch.compile's module where the case asks for it. The
    float64 reference stays eager: the same arithmetic in float64, without a second compile."""

    def __init__(self, model) -> None:
        self.model = model
        self.call = model

    def __call__(self, *args):
        return self.call(*args)

    def compile(self, p: Mapping, s: Setting) -> None:
        import torch

        if p["compile"] == "inductor" and not s.reference:
            self.call = torch.compile(self.model)


def _calibrate_batch_norm(model, x) -> None:
    """Running statistics from the inputs, as a trained model has: a freshly initialised
    one in eval mode multiplies its activations layer after layer (logits of 1e10)."""
    import torch
    from torch import nn

    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the calibration passes
    if norms:
        model.train()
        with torch.no_grad():
            model(x)


def _training(model, loss_fn: Callable[[], Any], s: Setting
              ) -> tuple[Callable[[], list[Any]], Callable[[], None]]:
    """A training step that restores the model and optimizer state before it runs, and the
    restore itself (a build calls it last, so inference sees the same weights however many
    steps counting FLOPs took)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-3, momentum=0.9)

    def raw() -> Any:
        optimizer.zero_grad(set_to_none=True)
        model.train()
        with _autocast(s):
            loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss

    # The state to return to: the weights and buffers as built, and zero momentum (SGD's
    # first step from zero momentum is its first step from none). The step below only
    # creates the momentum buffers: inference must not see weights that one step on this
    # batch moved (the served-batch cases compare one request across batch sizes).
    weights = [*params, *model.buffers()]
    saved = [t.detach().clone() for t in weights]
    raw()
    momentum = [optimizer.state[p]["momentum_buffer"] for p in params]
    state = [*weights, *momentum]
    saved += [torch.zeros_like(m) for m in momentum]

    def restore() -> None:
        with torch.no_grad():
            for t, original in zip(state, saved, strict=True):
                t.copy_(original)

    def train_step() -> list[Any]:
        restore()
        loss = raw()
        return [loss.detach(), *(p.grad for p in params)]

    return train_step, restore


def _classifier(model, p: Mapping, s: Setting, channels_last: bool) -> Problem:
    import torch
    import torch.nn.functional as F

    batch, image, classes = int(p["batch"]), int(p["image"]), int(p["classes"])
    # Images arrive in float32, as from a data loader; autocast casts them where it casts
    # the weights (an input already in bfloat16 fails wherever autocast does not reach).
    x = s.randn(batch, 3, image, image)
    x = x if s.reference else x.float()
    labels = s.randint(classes, batch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    _calibrate_batch_norm(model, x)
    net = _Net(model)

    def infer():
        model.eval()
        with torch.inference_mode(), _autocast(s):
            return _widened(net(x), s)

    train_step, restore = _training(model, lambda: F.cross_entropy(net(x).float(), labels), s)
    work = {"fwd": Work(flops=_counted_flops(infer, s), items=batch, item_unit="samples"),
            "fwdbwd": Work(flops=_counted_flops(train_step, s), items=batch,
                           item_unit="samples")}
    restore()
    net.compile(p, s)
    return Problem(infer, [], work, train_step=train_step)


def build_resnet(p: Mapping, s: Setting) -> Problem:
    from torchvision import models

    depth, classes = int(p["depth"]), int(p["classes"])
    make = {18: models.resnet18, 50: models.resnet50}[depth]
    model = _seeded(lambda: make(weights=None, num_classes=classes), s)
    return _classifier(model, p, s, channels_last=True)


def build_vit(p: Mapping, s: Setting) -> Problem:
    from torch import nn
    from torchvision.models.vision_transformer import VisionTransformer

    classes, hidden = int(p["classes"]), int(p["hidden"])

    def make():
        model = VisionTransformer(
            image_size=int(p["image"]), patch_size=int(p["patch"]),
            num_layers=int(p["layers"]), num_heads=int(p["heads"]), hidden_dim=hidden,
            mlp_dim=4 * hidden, num_classes=classes)
        # torchvision starts the classifier at zero: every logit would be 0, whatever the
        # arithmetic before it, and its digests could never differ.
        nn.init.normal_(model.heads.head.weight, std=hidden ** -0.5)
        return model

    return _classifier(_seeded(make, s), p, s, channels_last=False)


def build_detection(p: Mapping, s: Setting) -> Problem:
    """torchvision's Faster R-CNN (ResNet-50 FPN), random weights: roi_align and NMS on the
    path. Inference returns every image's boxes, scores and labels (score threshold 0, so
    random weights still detect); the training step sums the RPN and box-head losses."""
    import torch
    from torch import nn
    from torchvision.models.detection import fasterrcnn_resnet50_fpn

    batch, image, classes, boxes = (int(p[k]) for k in ("batch", "image", "classes", "boxes"))
    model = _seeded(lambda: fasterrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=classes, min_size=image,
        max_size=image, box_score_thresh=0.0), s)
    images = [x if s.reference else x.float() for x in s.randn(batch, 3, image, image)]
    corner = s.rand(batch, boxes, 2) * (image * 0.7)
    size = s.rand(batch, boxes, 2) * (image * 0.3) + 8
    targets = [{"boxes": torch.cat([c, c + z], dim=1).to(images[0].dtype),
                "labels": s.randint(classes - 1, boxes) + 1}
               for c, z in zip(corner, size, strict=True)]
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in norms:  # running statistics from the images, as for the classifiers
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model.backbone(torch.stack(images))

    def infer():
        model.eval()
        with torch.inference_mode(), _autocast(s):
            found = model(images)
        return torch.cat([torch.cat([d["boxes"].flatten(), d["scores"].flatten(),
                                     d["labels"].to(d["scores"].dtype)]) for d in found])

    def loss():
        # The samplers of the RPN and the box head draw from the global generator: the same
        # seed each step, so that repeats see the same samples and a digest can compare.
        torch.manual_seed(s.seed)
        return sum(model(images, targets).values())

    train_step, restore = _training(model, loss, s)
    work = {"fwd": Work(flops=_counted_flops(infer, s), items=batch, item_unit="samples"),
            "fwdbwd": Work(flops=_counted_flops(train_step, s), items=batch,
                           item_unit="samples")}
    restore()
    return Problem(lambda: _widened(infer(), s), [], work, train_step=train_step)


def _gpt_class():
    """A GPT-style decoder (pre-norm blocks, SDPA, learned positions) with a KV cache."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        def __init__(self, hidden: int, heads: int) -> None:
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
            self.qkv, self.proj = nn.Linear(hidden, 3 * hidden), nn.Linear(hidden, hidden)
            self.mlp = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(),
                                     nn.Linear(4 * hidden, hidden))

        def forward(self, x, cache=None, start: int = 0):
            b, t, h = x.shape
            q, k, v = (z.view(b, t, self.heads, h // self.heads).transpose(1, 2)
                       for z in self.qkv(self.ln1(x)).split(h, dim=2))
            if cache is not None:  # write this step's keys and values, attend to all so far
                cache[0][:, :, start:start + t] = k
                cache[1][:, :, start:start + t] = v
                k, v = cache[0][:, :, :start + t], cache[1][:, :, :start + t]
            attn = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
            x = x + self.proj(attn.transpose(1, 2).reshape(b, t, h))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self, vocab: int, hidden: int, layers: int, heads: int,
                     max_seq: int) -> None:
            super().__init__()
            self.tokens, self.positions = nn.Embedding(vocab, hidden), nn.Embedding(max_seq,
                                                                                    hidden)
            self.blocks = nn.ModuleList(Block(hidden, heads) for _ in range(layers))
            self.ln, self.head = nn.LayerNorm(hidden), nn.Linear(hidden, vocab, bias=False)

        def forward(self, ids, caches=None, start: int = 0):
            positions = torch.arange(start, start + ids.shape[1], device=ids.device)
            x = self.tokens(ids) + self.positions(positions)
            for i, block in enumerate(self.blocks):
                x = block(x, None if caches is None else caches[i], start)
            return self.head(self.ln(x))

    return GPT


def build_gpt(p: Mapping, s: Setting) -> Problem:
    return gpt_problem(p, s, s.randint(int(p["vocab"]), int(p["batch"]), int(p["seq"]) + 1))


def gpt_problem(p: Mapping, s: Setting, ids) -> Problem:
    """The language model's problem on the given token ids (batch, seq + 1): the prompt is
    the first `seq`, the last is the first decode token and the training target's end."""
    import torch
    import torch.nn.functional as F

    vocab, hidden, layers, heads = (int(p[k]) for k in ("vocab", "hidden", "layers", "heads"))
    batch, seq, new = int(p["batch"]), int(p["seq"]), int(p["new_tokens"])
    gpt = _gpt_class()
    model = _seeded(lambda: gpt(vocab, hidden, layers, heads, seq + new), s)
    net = _Net(model)
    prompt = ids[:, :seq]
    dtype = torch.float64 if s.reference else (
        torch.float32 if s.dtype == "float32" else getattr(torch, s.dtype))
    shape = (2, batch, heads, seq + new, hidden // heads)
    caches = [torch.zeros(shape, device=s.device, dtype=dtype) for _ in range(layers)]

    def prefill():
        model.eval()
        with torch.inference_mode(), _autocast(s):
            return _widened(net(prompt, caches), s)

    def decode():
        """`new` tokens one at a time after the prompt, greedy, through the KV cache."""
        model.eval()
        with torch.inference_mode(), _autocast(s):
            token, logits = ids[:, seq:seq + 1], []
            for i in range(new):
                out = _widened(net(token, caches, seq + i)[:, -1], s)
                logits.append(out)
                token = out.argmax(dim=-1, keepdim=True)
            return torch.stack(logits, dim=1)

    prefill()  # the prompt's keys and values are in the cache before any decode step
    infer, tokens = (prefill, batch * seq) if p["phase"] == "prefill" else (decode, batch * new)
    train_step, restore = _training(model, lambda: F.cross_entropy(
        net(prompt).float().flatten(0, 1), ids[:, 1:].flatten()), s)
    work = {"fwd": Work(flops=_counted_flops(infer, s), items=tokens, item_unit="tokens"),
            "fwdbwd": Work(flops=_counted_flops(train_step, s), items=batch * seq,
                           item_unit="tokens")}
    restore()
    net.compile(p, s)
    prefill()  # the cache holds the prompt of the weights that inference uses
    return Problem(infer, [], work, train_step=train_step)


def _check_vit(p: Mapping) -> str | None:
    if p["image"] % p["patch"]:
        return f"image = {p['image']} must be a multiple of patch = {p['patch']}"
    if p["hidden"] % p["heads"]:
        return f"hidden = {p['hidden']} must be a multiple of heads = {p['heads']}"
    return None


# eager, or torch.compile's default backend: deterministic mode also sets Inductor's own
# deterministic flag (torch 2.10 and later), which the record reads back.
COMPILE = Param("eager", ("eager", "inductor"))

MODEL_WORKLOADS = [
    Workload("model", "resnet", "torchvision ResNet (18 or 50), channels_last: inference "
             "(fwd) and an SGD training step (fwdbwd)", build_resnet,
             params={"depth": Param(50, minimum=18), "batch": 64, "image": 224,
                     "classes": 1000, "compile": COMPILE},
             precisions=MODEL_PRECISIONS, kernel_table=True,
             check=lambda p: "depth must be 18 or 50" if p["depth"] not in (18, 50) else None),
    Workload("model", "vit", "torchvision VisionTransformer (defaults: ViT-B/16): inference "
             "(fwd) and an SGD training step (fwdbwd)", build_vit,
             params={"batch": 64, "image": 224, "patch": 16, "layers": 12, "heads": 12,
                     "hidden": 768, "classes": 1000, "compile": COMPILE},
             precisions=MODEL_PRECISIONS, kernel_table=True, check=_check_vit),
    Workload("model", "detection", "torchvision Faster R-CNN ResNet-50 FPN, random weights: "
             "inference (fwd: boxes, scores, labels) and an SGD training step (fwdbwd); "
             "roi_align and NMS on the path", build_detection,
             params={"batch": 2, "image": 512, "classes": 91, "boxes": 8},
             precisions=MODEL_PRECISIONS, kernel_table=True,
             check=lambda p: "classes must be at least 2" if p["classes"] < 2 else None),
    Workload("model", "gpt", "a decoder-only language model from torch.nn (defaults: 124M "
             "parameters): prefill or KV-cache decode (fwd), and a training step (fwdbwd)",
             build_gpt,
             params={"phase": Param("prefill", ("prefill", "decode")), "batch": 8,
                     "seq": 1024, "new_tokens": 32, "vocab": 32000, "hidden": 768,
                     "layers": 12, "heads": 12, "compile": COMPILE},
             precisions=MODEL_PRECISIONS, kernel_table=True,
             check=lambda p: (f"hidden = {p['hidden']} must be a multiple of heads = "
                              f"{p['heads']}" if p["hidden"] % p["heads"] else None)),
]
