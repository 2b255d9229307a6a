#!/usr/bin/env python3
"""Reference losses and learning rates for `biobertpt train-steps`.

Loads bert/testdata/tiny/{token-classification,mlm} (pytorch_model.bin) with
dropout 0 and trains it for STEPS optimizer updates on a fixed list of
pre-tokenized batches, as HF Trainer does:

  torch.optim.AdamW with two parameter groups (HF's no-decay rule: names
  containing "bias" or "LayerNorm.weight" get weight_decay 0; betas
  (0.9, 0.999), eps 1e-8), LambdaLR with get_linear_schedule_with_warmup's
  lambda, and per step: loss = model(**batch).loss; loss.backward();
  clip_grad_norm_(params, CLIP); optimizer.step(); scheduler.step();
  zero_grad().

It records the loss before each update and the lr that update used, and
writes batches-<head>.json (the input format of train-steps) and
expected-<head>.json ({"losses","lrs", and the settings}).

The model: transformers' BertForTokenClassification / BertForMaskedLM when
`transformers` is importable (eager attention), else the plain-torch
transcription of HF's modeling_bert.py in bert/testdata/gen_fixtures.py (same
keys, same equations). --no-transformers forces the transcription.

Run from the repo root:
  /usr/bin/python3 examples/biobertpt/testdata/train_steps/gen_train_steps.py
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
sys.dont_write_bytecode = True  # no __pycache__ in bert/testdata
sys.path.insert(0, os.path.join(ROOT, "bert", "testdata"))
import gen_fixtures  # noqa: E402  (the transcription)

STEPS = 25
N_BATCHES = 25
LR = 5e-4
WARMUP = 5
WEIGHT_DECAY = 0.01
CLIP = 1.0
NO_DECAY = ["bias", "LayerNorm.weight"]  # HF Trainer (transformers < 4.35 spelling; same parameters)


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps):
    """transformers.optimization.get_linear_schedule_with_warmup."""
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda, -1)


def load_model(head, use_hf):
    d = os.path.join(ROOT, "bert", "testdata", "tiny", head)
    cd = json.load(open(os.path.join(d, "config.json")))
    cd["hidden_dropout_prob"] = 0.0
    cd["attention_probs_dropout_prob"] = 0.0
    sd = torch.load(os.path.join(d, "pytorch_model.bin"), map_location="cpu")
    if use_hf:
        import transformers
        hc = transformers.BertConfig(**{k: v for k, v in cd.items() if k not in ("architectures", "model_type", "torch_dtype")})
        hc._attn_implementation = "eager"
        cls = transformers.BertForTokenClassification if head == "token-classification" else transformers.BertForMaskedLM
        model = cls(hc)
    else:
        labels = cd.get("id2label", {})
        c = gen_fixtures.Cfg(dict(cd, num_labels=len(labels)))
        model = gen_fixtures.BertForTokenClassification(c) if head == "token-classification" else gen_fixtures.BertForMaskedLM(c)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not [k for k in missing if not k.endswith("position_ids")], missing
    assert not unexpected, unexpected
    model.train()  # dropout 0: train mode computes what eval mode does
    return model, cd


def make_batches(head, cd, gen):
    vocab = cd["vocab_size"]
    n_labels = len(cd.get("id2label", {}))
    out = []
    for _ in range(N_BATCHES):
        b = int(torch.randint(2, 5, (1,), generator=gen))
        t = int(torch.randint(6, 13, (1,), generator=gen))
        ids, mask, types, labels = [], [], [], []
        for r in range(b):
            n = t if r == 0 else int(torch.randint(4, t + 1, (1,), generator=gen))
            row = [2] + torch.randint(5, vocab, (n - 2,), generator=gen).tolist() + [3] + [0] * (t - n)
            m = [1] * n + [0] * (t - n)
            cut = int(torch.randint(1, n, (1,), generator=gen))  # second segment from cut
            ty = [0] * cut + [1] * (n - cut) + [0] * (t - n)
            lab = [-100] * t
            for i in range(1, n - 1):
                u = float(torch.rand((1,), generator=gen))
                if head == "token-classification":
                    if u < 0.75:  # a first sub-token; the rest are continuations (-100)
                        lab[i] = int(torch.randint(0, n_labels, (1,), generator=gen))
                elif u < 0.3:  # a masked position and its original token
                    lab[i] = int(torch.randint(5, vocab, (1,), generator=gen))
            if all(x == -100 for x in lab):
                lab[1] = 7 if head == "mlm" else 1
            ids.append(row)
            mask.append(m)
            types.append(ty)
            labels.append(lab)
        out.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels})
    return out


def run(head, use_hf, generator):
    torch.manual_seed(0)
    model, cd = load_model(head, use_hf)
    batches = make_batches(head, cd, torch.Generator().manual_seed(20201 if head == "mlm" else 20200))
    named = list(model.named_parameters())  # tied parameters appear once
    groups = [
        {"params": [p for n, p in named if not any(nd in n for nd in NO_DECAY)], "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in named if any(nd in n for nd in NO_DECAY)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.999), eps=1e-8)
    sched = get_linear_schedule_with_warmup(opt, WARMUP, STEPS)
    params = [p for _, p in named]
    losses, lrs = [], []
    for step in range(STEPS):
        b = batches[step % len(batches)]
        t = {k: torch.tensor(v, dtype=torch.long) for k, v in b.items()}
        out = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"],
                    token_type_ids=t["token_type_ids"], labels=t["labels"])
        losses.append(float(out.loss))
        lrs.append(opt.param_groups[0]["lr"])
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        sched.step()
        opt.zero_grad()
    with open(os.path.join(HERE, "batches-%s.json" % head), "w") as f:
        json.dump({"batches": batches}, f, separators=(",", ":"))
        f.write("\n")
    exp = {"generator": generator, "torch": torch.__version__, "model": "bert/testdata/tiny/" + head,
           "dropout": 0.0, "steps": STEPS, "lr": LR, "warmup_steps": WARMUP, "weight_decay": WEIGHT_DECAY,
           "clip": CLIP, "losses": losses, "lrs": lrs}
    with open(os.path.join(HERE, "expected-%s.json" % head), "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")
    print(head, "losses", ["%.6f" % x for x in losses[:3]], "...", "%.6f" % losses[-1])


def main():
    use_hf = "--no-transformers" not in sys.argv
    try:
        if not use_hf:
            raise ImportError
        import transformers
        generator = "transformers " + transformers.__version__
    except ImportError:
        use_hf = False
        generator = "transcription (bert/testdata/gen_fixtures.py)"
    torch.set_default_dtype(torch.float32)
    for head in ("token-classification", "mlm"):
        run(head, use_hf, generator)


if __name__ == "__main__":
    main()
