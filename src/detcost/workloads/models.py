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

from collections.abc import Mapping
from typing import Any

from .base import Param, Problem, Setting, Work, Workload
from .language import build_gpt
from .model_kit import (
    Net,
    autocast,
    calibrate_batch_norm,
    counted_flops,
    in_float64,
    loss_and_grads,
    seeded,
    training,
    widened,
)

MODEL_PRECISIONS = ("highest", "high", "medium")


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
    calibrate_batch_norm(model, x)
    net = Net(model)

    def infer():
        model.eval()
        with torch.inference_mode(), autocast(s):
            return widened(net(x), s)

    train_step, restore = training(model, lambda: F.cross_entropy(net(x).float(), labels), s)
    work = {"fwd": Work(flops=counted_flops(infer, s, "fwd"), items=batch, item_unit="samples"),
            "fwdbwd": Work(flops=counted_flops(train_step, s, "fwdbwd"), items=batch,
                           item_unit="samples")}
    restore()
    net.compile(p, s)

    def reference(pass_: str, measured: list[Any]) -> list[Any]:
        ref = in_float64(model, restore)
        x64 = x.to(torch.float64)
        if pass_ == "fwd":
            ref.eval()
            with torch.no_grad():
                return [ref(x64)]
        return loss_and_grads(ref, lambda: F.cross_entropy(ref(x64), labels))

    return Problem(infer, [], work, train_step=train_step, reference=reference)


def build_resnet(p: Mapping, s: Setting) -> Problem:
    from torchvision import models

    depth, classes = int(p["depth"]), int(p["classes"])
    make = {18: models.resnet18, 50: models.resnet50}[depth]
    model = seeded(lambda: make(weights=None, num_classes=classes), s)
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

    return _classifier(seeded(make, s), p, s, channels_last=False)


def build_detection(p: Mapping, s: Setting) -> Problem:
    """torchvision's Faster R-CNN (ResNet-50 FPN), random weights: roi_align and NMS on the
    path. Inference returns every image's boxes, scores and labels (score threshold 0, so
    random weights still detect); the training step sums the RPN and box-head losses."""
    import torch
    from torch import nn
    from torchvision.models.detection import fasterrcnn_resnet50_fpn

    batch, image, classes, boxes = (int(p[k]) for k in ("batch", "image", "classes", "boxes"))
    model = seeded(lambda: fasterrcnn_resnet50_fpn(
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
        with torch.inference_mode(), autocast(s):
            found = model(images)
        return torch.cat([torch.cat([d["boxes"].flatten(), d["scores"].flatten(),
                                     d["labels"].to(d["scores"].dtype)]) for d in found])

    def loss():
        # The samplers of the RPN and the box head draw from the global generator: the same
        # seed each step, so that repeats see the same samples and a digest can compare.
        torch.manual_seed(s.seed)
        return sum(model(images, targets).values())

    train_step, restore = training(model, loss, s)
    work = {"fwd": Work(flops=counted_flops(infer, s, "fwd"), items=batch, item_unit="samples"),
            "fwdbwd": Work(flops=counted_flops(train_step, s, "fwdbwd"), items=batch,
                           item_unit="samples")}
    restore()
    return Problem(lambda: widened(infer(), s), [], work, train_step=train_step)


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
             # attention through SDPA's flash kernels (its kernel tables): no cuDNN call
             precisions=MODEL_PRECISIONS, kernel_table=True, calls=("cublas",),
             check=lambda p: (f"hidden = {p['hidden']} must be a multiple of heads = "
                              f"{p['heads']}" if p["hidden"] % p["heads"] else None)),
]
