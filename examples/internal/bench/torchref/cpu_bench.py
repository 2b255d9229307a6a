#!/usr/bin/env python3
"""Plain-PyTorch BERT training-step benchmark for the CPU, a like-for-like
reference for `biobertpt bench -device cpu` where HF transformers is not
installed (Debian's python3-torch 1.13 has no transformers).

The model transcribes transformers' BertForTokenClassification /
BertForMaskedLM (modeling_bert.py, eager attention, erf GELU, tied MLM
decoder, HF's init) and the batch and step are HF's hf_bench.py's:
forward + loss + backward + clip_grad_norm_(1.0) + AdamW(lr 5e-5, wd 0.01 on
all but biases and LayerNorm weights) + zero_grad(set_to_none=True), timed
over --steps after --warmup. Like HF (and unlike biobertpt), the MLM head
projects every position onto the vocabulary. AdamW is torch's default
implementation for CPU tensors (single-tensor in 1.13).

  /usr/bin/python3 cpu_bench.py --config tiny --task ner --batch 4 --seq 32

Prints one JSON line with hf_bench.py's fields; peak_mem_gib is the process's
peak RSS (VmHWM, reset before the model is built).
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "mbert": dict(vocab=119547, hidden=768, layers=12, heads=12, inter=3072, pos=512),
    "small": dict(vocab=119547, hidden=512, layers=4, heads=8, inter=2048, pos=512),
    "tiny": dict(vocab=100, hidden=32, layers=2, heads=4, inter=37, pos=64),
}
NUM_LABELS = 27


class Layer(nn.Module):
    def __init__(s, c, p):
        super().__init__()
        h = c["hidden"]
        s.heads, s.p = c["heads"], p
        s.query, s.key, s.value, s.out = (nn.Linear(h, h) for _ in range(4))
        s.ln1, s.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        s.inter, s.output = nn.Linear(h, c["inter"]), nn.Linear(c["inter"], h)

    def forward(s, x, mask):
        b, t, h = x.shape
        d = h // s.heads
        split = lambda y: y.view(b, t, s.heads, d).transpose(1, 2)  # (B, heads, T, d)
        q, k, v = split(s.query(x)), split(s.key(x)), split(s.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask
        probs = F.dropout(scores.softmax(-1), s.p, s.training)
        ctx = (probs @ v).transpose(1, 2).contiguous().view(b, t, h)
        a = s.ln1(F.dropout(s.out(ctx), s.p, s.training) + x)
        return s.ln2(F.dropout(s.output(F.gelu(s.inter(a))), s.p, s.training) + a)


class Bert(nn.Module):
    def __init__(s, c, task, p=0.1):
        super().__init__()
        h = c["hidden"]
        s.task, s.p = task, p
        s.word = nn.Embedding(c["vocab"], h, padding_idx=0)
        s.pos, s.tok = nn.Embedding(c["pos"], h), nn.Embedding(2, h)
        s.ln = nn.LayerNorm(h, eps=1e-12)
        s.layers = nn.ModuleList(Layer(c, p) for _ in range(c["layers"]))
        if task == "ner":
            s.classifier = nn.Linear(h, NUM_LABELS)
        else:
            s.transform, s.tln = nn.Linear(h, h), nn.LayerNorm(h, eps=1e-12)
            s.bias = nn.Parameter(torch.zeros(c["vocab"]))
        for m in s.modules():  # HF _init_weights
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.data.normal_(0.0, 0.02)
            if isinstance(m, nn.Linear):
                m.bias.data.zero_()
        s.word.weight.data[0].zero_()

    def forward(s, ids, mask, types, labels):
        t = ids.shape[1]
        x = s.word(ids) + s.tok(types) + s.pos(torch.arange(t))
        x = F.dropout(s.ln(x), s.p, s.training)
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in s.layers:
            x = l(x, ext)
        if s.task == "ner":
            logits = s.classifier(F.dropout(x, s.p, s.training))
        else:
            logits = F.linear(s.tln(F.gelu(s.transform(x))), s.word.weight, s.bias)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)


def make_batch(task, batch, seq, vocab, gen):
    lo, cls, sep, msk = (1000, 101, 102, 103) if vocab > 2000 else (4, 1, 2, 3)
    ids = torch.randint(lo, vocab, (batch, seq), generator=gen)
    ids[:, 0], ids[:, -1] = cls, sep
    mask, tt = torch.ones(batch, seq, dtype=torch.long), torch.zeros(batch, seq, dtype=torch.long)
    if task == "ner":
        labels = torch.randint(0, NUM_LABELS, (batch, seq), generator=gen)
    else:
        sel = torch.rand(batch, seq, generator=gen) < 0.15
        labels = torch.where(sel, ids, torch.full_like(ids, -100))
        ids = torch.where(sel, torch.full_like(ids, msk), ids)
    return ids, mask, tt, labels


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        return "cpu: %s (%d logical CPUs)" % (names[0], len(names))
    except (OSError, IndexError):
        return "cpu"


def vmhwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    ap.add_argument("--task", choices=["ner", "mlm"], default="ner")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=32)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = leave)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    try:
        open("/proc/self/clear_refs", "w").write("5")
        kind = "host_peak_rss_vmhwm"
    except OSError:
        kind = "host_peak_rss_vmhwm_since_start"
    c = CONFIGS[a.config]
    model = Bert(c, a.task)
    model.train()
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        layer_norm = n.endswith(".weight") and n.split(".")[-2] in ("ln", "ln1", "ln2", "tln")  # HF: LayerNorm.weight
        (no_decay if ("bias" in n or layer_norm) else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=5e-5, betas=(0.9, 0.999), eps=1e-8)
    data = make_batch(a.task, a.batch, a.seq, c["vocab"], torch.Generator().manual_seed(0))
    params = list(model.parameters())

    def step():
        loss = model(*data)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    ms = (time.perf_counter() - t0) / a.steps * 1000.0
    print(json.dumps({
        "task": a.task, "batch": a.batch, "seq": a.seq, "dtype": "fp32", "attn": "eager",
        "ms_per_step": round(ms, 3), "tokens_per_s": round(a.batch * a.seq / (ms / 1000.0), 1),
        "peak_mem_gib": round(vmhwm() / 2**30, 3), "device": cpu_name(),
        "steps": a.steps, "warmup": a.warmup, "dropout": 0.1, "optim": "adamw_torch_default",
        "n_params": sum(p.numel() for p in params), "last_loss": round(float(loss.item()), 4),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "peak_mem_kind": kind,
        "config": a.config, "impl": "plain torch (torchref/cpu_bench.py)",
    }))


if __name__ == "__main__":
    main()
