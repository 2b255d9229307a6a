#!/usr/bin/env python3
"""Load a model directory written by this library the way HF does, and run it.

    python3 check_go_saved.py MODEL_DIR INPUT.json > logits.json

MODEL_DIR holds config.json + model.safetensors as bert's Save writes them.
The model class comes from config.json's "architectures"; with `transformers`
installed it is transformers' own class (from_pretrained), otherwise the
plain-torch transcription of HF's BERT in gen_fixtures.py, loaded with
load_state_dict(strict=True) so that any missing, unexpected or mis-shaped
key fails exactly as HF would complain. INPUT.json is the input of
`biobertpt forward` ({"input_ids", "attention_mask", "token_type_ids"}); the
output is {"logits": ...} (or "last_hidden_state"), to compare with
`biobertpt forward -model MODEL_DIR -input INPUT.json`.
Not run by tests (CI has no Python torch).
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_fixtures as g  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    sd = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", (k, v["dtype"])
        a, b = v["data_offsets"]
        sd[k] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(v["shape"])
    return sd


def main():
    mdir, inp = sys.argv[1], sys.argv[2]
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    arch = cfg["architectures"][0]
    x = json.load(open(inp))
    ids = torch.tensor(x["input_ids"])
    mask = torch.tensor(x.get("attention_mask") or [[1] * len(r) for r in x["input_ids"]])
    types = torch.tensor(x.get("token_type_ids") or [[0] * len(r) for r in x["input_ids"]])
    try:
        import transformers

        m = getattr(transformers, arch).from_pretrained(mdir).eval()
        via = "transformers " + transformers.__version__
        out = m(input_ids=ids, attention_mask=mask, token_type_ids=types)
    except ImportError:
        c = dict(cfg)
        c.setdefault("classifier_dropout", None)
        if arch == "BertForTokenClassification":
            c["num_labels"] = len(cfg["id2label"])
        c = g.Cfg(c)
        m = {"BertModel": g.BertModel, "BertForMaskedLM": g.BertForMaskedLM,
             "BertForTokenClassification": g.BertForTokenClassification}[arch](c)
        sd = read_safetensors(os.path.join(mdir, "model.safetensors"))
        if arch == "BertForMaskedLM":  # tied: HF saves the decoder weight or drops it
            sd.setdefault("cls.predictions.decoder.weight", sd["bert.embeddings.word_embeddings.weight"])
            sd.setdefault("cls.predictions.decoder.bias", sd["cls.predictions.bias"])
        missing, unexpected = m.load_state_dict(sd, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids")]
        if missing or unexpected:
            sys.exit(f"load {mdir}: missing {missing}, unexpected {unexpected}")
        m.eval()
        via = "transcription, torch " + torch.__version__
        with torch.no_grad():
            out = m(ids, mask, types)
    with torch.no_grad():
        key = "last_hidden_state" if arch == "BertModel" else "logits"
        t = getattr(out, key)
    print(json.dumps({key: t.tolist(), "via": via}))


if __name__ == "__main__":
    main()
