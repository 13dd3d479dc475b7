"""A decoder-only language model built from torch.nn (pre-norm blocks, SDPA, learned
positions, a KV cache): prefill of `seq` tokens, `new_tokens` greedy decode steps, or a
training step on the prompt. Its float64 reference decodes along the tokens the measured
step chose (teacher forcing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Problem, Setting, Work
from .model_kit import (
    Net,
    autocast,
    counted_flops,
    in_float64,
    loss_and_grads,
    seeded,
    training,
    widened,
)


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
    model = seeded(lambda: gpt(vocab, hidden, layers, heads, seq + new), s)
    net = Net(model)
    prompt = ids[:, :seq]
    dtype = torch.float64 if s.reference else (
        torch.float32 if s.dtype == "float32" else getattr(torch, s.dtype))
    shape = (2, batch, heads, seq + new, hidden // heads)
    caches = [torch.zeros(shape, device=s.device, dtype=dtype) for _ in range(layers)]

    def prefill():
        model.eval()
        with torch.inference_mode(), autocast(s):
            return widened(net(prompt, caches), s)

    def decode():
        """`new` tokens one at a time after the prompt, greedy, through the KV cache."""
        model.eval()
        with torch.inference_mode(), autocast(s):
            token, logits = ids[:, seq:seq + 1], []
            for i in range(new):
                out = widened(net(token, caches, seq + i)[:, -1], s)
                logits.append(out)
                token = out.argmax(dim=-1, keepdim=True)
            return torch.stack(logits, dim=1)

    prefill()  # the prompt's keys and values are in the cache before any decode step
    infer, tokens = (prefill, batch * seq) if p["phase"] == "prefill" else (decode, batch * new)
    train_step, restore = training(model, lambda: F.cross_entropy(
        net(prompt).float().flatten(0, 1), ids[:, 1:].flatten()), s)
    work = {"fwd": Work(flops=counted_flops(infer, s, "fwd"), items=tokens, item_unit="tokens"),
            "fwdbwd": Work(flops=counted_flops(train_step, s, "fwdbwd"), items=batch * seq,
                           item_unit="tokens")}
    restore()
    net.compile(p, s)
    prefill()  # the cache holds the prompt of the weights that inference uses

    def reference(pass_: str, measured: list[Any]) -> list[Any]:
        ref = in_float64(model, restore)
        prefill()  # the measured model's cache again: restore() left the weights as built
        if pass_ == "fwdbwd":
            return loss_and_grads(ref, lambda: F.cross_entropy(
                ref(prompt).flatten(0, 1), ids[:, 1:].flatten()))
        ref.eval()
        cache = [torch.zeros(shape, device=s.device, dtype=torch.float64)
                 for _ in range(layers)]
        with torch.no_grad():
            logits = ref(prompt, cache)
            if p["phase"] == "prefill":
                return [logits]
            # Teacher forcing: each step is fed the token the measured decode chose, so a
            # flipped argmax there does not send the reference down another continuation.
            chosen = measured[0].argmax(dim=-1)
            token, out = ids[:, seq:seq + 1], []
            for i in range(new):
                out.append(ref(token, cache, seq + i)[:, -1])
                token = chosen[:, i:i + 1]
            return [torch.stack(out, dim=1)]

    return Problem(infer, [], work, train_step=train_step, reference=reference)
