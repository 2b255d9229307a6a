#!/usr/bin/env python3
"""Writes adamw_parity.json: the trajectory of torch.optim.AdamW as HF Trainer
drives it, for internal/optim's parity test.

Run with Debian's torch 1.13 (apt-get install python3-torch):

    /usr/bin/python3 internal/optim/testdata/gen_adamw.py > internal/optim/testdata/adamw_parity.json

Setup, as in transformers.Trainer (create_optimizer, get_linear_schedule_with_warmup,
_inner_training_loop):
  * five float32 parameters with BERT-style names; two parameter groups,
    weight decay 0.01 for the decay group and 0.0 for biases and LayerNorm
    weights (HF's rule: "bias" in name or a LayerNorm weight); "unused.weight"
    never receives a gradient (torch skips it);
  * loss_t = sum_i sum(p_i * G_i[t]) with fixed random G, so grad p_i = G_i[t]
    exactly; the scale of G varies so that clipping is active on some steps;
  * per step: zero_grad(set_to_none=False), backward, clip_grad_norm_(1.0),
    optimizer.step(), scheduler.step() (LambdaLR with HF's linear warmup lambda).
All float32 values are written as the exact decimal of the float32 (Python repr
of the widened double), so Go parses them back bit-exactly.
"""
import json
import math

import torch

STEPS = 25
WARMUP = math.ceil(0.1 * 20)  # HF get_warmup_steps(0.1 ratio) of 20 training steps
TOTAL = 20                    # num_training_steps < STEPS: the last updates use lr 0
BASE_LR = 5e-2
MAX_NORM = 1.0


def hf_linear_lambda(num_warmup_steps, num_training_steps):
    # transformers.optimization._get_linear_schedule_with_warmup_lr_lambda
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))
    return lr_lambda


def no_decay(name):
    return "bias" in name or "LayerNorm.weight" in name


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def main():
    torch.manual_seed(1234)
    shapes = {
        "encoder.dense.weight": (4, 3),
        "encoder.dense.bias": (4,),
        "encoder.LayerNorm.weight": (4,),
        "encoder.LayerNorm.bias": (4,),
        "unused.weight": (2, 2),
    }
    names = list(shapes)
    params = {n: torch.nn.Parameter(torch.randn(*shapes[n])) for n in names}
    init = {n: flat(params[n]) for n in names}
    used = [n for n in names if n != "unused.weight"]
    scales = [0.05 * (1 + (t % 7)) ** 2 for t in range(STEPS)]  # 0.05 .. 2.45
    grads = [{n: torch.randn(*shapes[n]) * scales[t] for n in used} for t in range(STEPS)]

    groups = [
        {"params": [params[n] for n in names if not no_decay(n)], "weight_decay": 0.01},
        {"params": [params[n] for n in names if no_decay(n)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=BASE_LR, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, hf_linear_lambda(WARMUP, TOTAL))

    lrs, norms, traj = [], [], []
    for t in range(STEPS):
        opt.zero_grad(set_to_none=False)
        loss = sum((params[n] * grads[t][n]).sum() for n in used)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([params[n] for n in names], MAX_NORM)
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        norms.append(float(norm))
        traj.append({n: flat(params[n]) for n in names})

    schedules = []
    for warmup, total in [(0, 10), (3, 10), (10, 10), (1, 1), (4, 0), (2, 7)]:
        lam = hf_linear_lambda(warmup, total)
        schedules.append({"base_lr": 3e-5, "warmup": warmup, "total": total,
                          "lrs": [3e-5 * lam(s) for s in range(total + 3)]})

    out = {
        "torch_version": torch.__version__,
        "steps": STEPS, "warmup": WARMUP, "total": TOTAL, "base_lr": BASE_LR, "max_norm": MAX_NORM,
        "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01,
        "names": names,
        "shapes": {n: list(shapes[n]) for n in names},
        "no_decay": {n: no_decay(n) for n in names},
        "init": init,
        "grads": [{n: flat(g[n]) for n in used} for g in grads],
        "lrs": lrs, "norms": norms, "params": traj,
        "schedules": schedules,
    }
    json.dump(out, __import__("sys").stdout, indent=None, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
