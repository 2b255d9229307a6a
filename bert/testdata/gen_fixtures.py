#!/usr/bin/env python3
"""Generate the tiny BERT parity fixtures under bert/testdata.

Two paths produce the same files:
  (a) HF: when `transformers` is importable, the models are transformers'
      BertModel / BertForMaskedLM / BertForTokenClassification and the files
      are written by save_pretrained(safe_serialization=True/False);
  (b) transcription: otherwise the same modules are built here in plain
      torch with HF's exact module names, key names and equations
      (transformers v4.x modeling_bert.py, eager attention), and config.json / model.safetensors /
      pytorch_model.bin are written the way save_pretrained writes them.
Either way the weights come from one seeded generator and are loaded with
load_state_dict, so both paths give identical files for the same torch.

Run: /usr/bin/python3 bert/testdata/gen_fixtures.py  (from the repo root)
Force the transcription with --no-transformers.
"""
import collections
import json
import math
import os
import struct
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIGS = {
    # HF-tiny-like, erf GELU, default eps
    "tiny": dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=37, hidden_act="gelu", hidden_dropout_prob=0.1,
                 attention_probs_dropout_prob=0.1, max_position_embeddings=64, type_vocab_size=2,
                 initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0,
                 position_embedding_type="absolute", use_cache=True, classifier_dropout=None),
    # tanh GELU, eps 1e-7, three token types, pad id 1, one layer
    "tiny-gelu-new": dict(vocab_size=90, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                          intermediate_size=37, hidden_act="gelu_new", hidden_dropout_prob=0.1,
                          attention_probs_dropout_prob=0.1, max_position_embeddings=64, type_vocab_size=3,
                          initializer_range=0.02, layer_norm_eps=1e-7, pad_token_id=1,
                          position_embedding_type="absolute", use_cache=True, classifier_dropout=None),
}
LABELS = ["O", "B-Disorder", "I-Disorder", "B-Procedure", "I-Procedure"]

# Which heads and formats each config gets (keeps testdata under 1 MB).
PLAN = {
    "tiny": {"base": ["safetensors", "bin"], "mlm": ["safetensors", "bin", "legacy"],
             "token-classification": ["safetensors", "bin"]},
    "tiny-gelu-new": {"base": ["safetensors"], "mlm": ["safetensors"], "token-classification": ["safetensors"]},
}
ARCH = {"base": "BertModel", "mlm": "BertForMaskedLM", "token-classification": "BertForTokenClassification"}


# ---------------------------------------------------------------- transcription
class Cfg:
    def __init__(self, d):
        self.__dict__.update(d)


def act_fn(name):
    if name == "gelu":
        return nn.functional.gelu  # erf form
    if name == "gelu_new":  # NewGELUActivation
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return nn.functional.relu
    raise ValueError(name)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.register_buffer("position_ids", torch.arange(c.max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids, token_type_ids):
        T = input_ids.shape[1]
        position_ids = self.position_ids[:, :T]
        emb = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        emb = emb + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(emb))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h = c.num_attention_heads
        self.d = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def split(self, x):
        return x.view(x.size()[:-1] + (self.h, self.d)).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        scores = scores + ext_mask
        probs = self.dropout(nn.functional.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.h * self.d,))


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x, m):
        return self.output(self.self(x, m), x)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.act = act_fn(c.hidden_act)

    def forward(self, x):
        return self.act(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, x):
        return self.LayerNorm(self.dropout(self.dense(h)) + x)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x, m):
        a = self.attention(x, m)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, x, m):
        for l in self.layer:
            x = l(x, m)
        return x


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, h):
        return self.activation(self.dense(h[:, 0]))


class Out:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class BertModel(nn.Module):
    def __init__(self, c, add_pooling_layer=True):
        super().__init__()
        self.config = c
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask, token_type_ids):
        ext = attention_mask[:, None, None, :].to(torch.float32)
        ext = (1.0 - ext) * torch.finfo(torch.float32).min  # get_extended_attention_mask
        h = self.encoder(self.embeddings(input_ids, token_type_ids), ext)
        return Out(last_hidden_state=h, pooler_output=self.pooler(h) if self.pooler is not None else None)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.transform_act_fn = act_fn(c.hidden_act)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))
        self.decoder.bias = self.bias  # _tie_weights

    def forward(self, x):
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)

    def forward(self, x):
        return self.predictions(x)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(c)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight  # tie_weights

    def forward(self, input_ids, attention_mask, token_type_ids, labels=None):
        logits = self.cls(self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state)
        loss = None
        if labels is not None:
            loss = nn.CrossEntropyLoss()(logits.view(-1, self.bert.config.vocab_size), labels.view(-1))
        return Out(logits=logits, loss=loss)


class BertForTokenClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_labels = c.num_labels
        self.bert = BertModel(c, add_pooling_layer=False)
        p = c.classifier_dropout if c.classifier_dropout is not None else c.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(c.hidden_size, c.num_labels)

    def forward(self, input_ids, attention_mask, token_type_ids, labels=None):
        h = self.dropout(self.bert(input_ids, attention_mask, token_type_ids).last_hidden_state)
        logits = self.classifier(h)
        loss = None
        if labels is not None:
            loss = nn.CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
        return Out(logits=logits, loss=loss)


# ---------------------------------------------------------------- writers
def write_safetensors(path, sd):
    """safetensors by hand: u64 LE header length, JSON header, raw LE data."""
    header, chunks, off = {"__metadata__": {"format": "pt"}}, [], 0
    for k in sorted(sd):
        t = sd[k].detach().contiguous().cpu()
        assert t.dtype == torch.float32
        b = t.numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def hf_config_dict(name, head, labels):
    d = dict(CONFIGS[name])
    d["architectures"] = [ARCH[head]]
    d["model_type"] = "bert"
    d["torch_dtype"] = "float32"
    if head == "token-classification":
        d["id2label"] = {str(i): l for i, l in enumerate(labels)}
        d["label2id"] = {l: i for i, l in enumerate(labels)}
    return d


# ---------------------------------------------------------------- data
def random_state(model, gen):
    """Every parameter drawn from one generator (weights N(0, 0.1), LayerNorm
    weights 1 + N(0, 0.1)), so biases and norms are exercised too."""
    sd = collections.OrderedDict()
    for k, p in model.state_dict().items():
        if k.endswith("position_ids"):
            sd[k] = p
            continue
        x = torch.randn(p.shape, generator=gen) * 0.1
        if "LayerNorm.weight" in k:
            x = x + 1.0
        sd[k] = x
    if "bert.embeddings.word_embeddings.weight" in sd and "cls.predictions.decoder.weight" in sd:
        sd["cls.predictions.decoder.weight"] = sd["bert.embeddings.word_embeddings.weight"]
        sd["cls.predictions.decoder.bias"] = sd["cls.predictions.bias"]
    return sd


def inputs(c, gen):
    B, T = 3, 9
    ids = torch.randint(2, c["vocab_size"], (B, T), generator=gen)
    mask = torch.ones(B, T, dtype=torch.long)
    for b, n in enumerate([T, 6, 3]):  # row 1 and 2 padded
        mask[b, n:] = 0
        ids[b, n:] = c["pad_token_id"]
    types = torch.randint(0, c["type_vocab_size"], (B, T), generator=gen) * mask
    mlm = torch.full((B, T), -100, dtype=torch.long)
    mlm[0, 1], mlm[0, 4], mlm[1, 2], mlm[2, 0], mlm[0, 8] = 5, 17, 33, c["vocab_size"] - 1, 2
    tok = torch.randint(0, len(LABELS), (B, T), generator=gen)
    tok[mask == 0] = -100
    return ids, mask, types, mlm, tok


class F32(float):
    """A float32 value printed with the 9 significant digits that round-trip it."""
    def __repr__(self):
        return "%.9g" % self


def flat(t):
    return [F32(x) for x in t.detach().reshape(-1).tolist()]


def dump_json(o):
    """json.dumps, but F32 lists printed with 9 digits (json ignores __repr__)."""
    if isinstance(o, dict):
        return "{" + ",".join(json.dumps(k) + ":" + dump_json(v) for k, v in o.items()) + "}"
    if isinstance(o, list):
        return "[" + ",".join(dump_json(v) for v in o) + "]"
    if isinstance(o, F32):
        return repr(o)
    return json.dumps(o)


def main():
    use_hf = "--no-transformers" not in sys.argv
    try:
        if not use_hf:
            raise ImportError
        import transformers  # noqa: F401
        from transformers import BertConfig
        path = "transformers " + transformers.__version__
    except ImportError:
        transformers = None
        path = "transcription"
    torch.manual_seed(0)
    report = {"generator": path, "torch": torch.__version__}
    for name in CONFIGS:
        gen = torch.Generator().manual_seed(1234 if name == "tiny" else 4321)
        ids, mask, types, mlm_labels, tok_labels = inputs(CONFIGS[name], gen)
        exp = {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "token_type_ids": types.tolist(),
               "mlm_labels": mlm_labels.tolist(), "token_labels": tok_labels.tolist(), "labels": LABELS}
        for head, formats in PLAN[name].items():
            cd = hf_config_dict(name, head, LABELS)
            if transformers is not None:
                hc = BertConfig(**{k: v for k, v in cd.items() if k not in ("architectures", "model_type", "torch_dtype")})
                cls = {"base": transformers.BertModel, "mlm": transformers.BertForMaskedLM,
                       "token-classification": transformers.BertForTokenClassification}[head]
                hc._attn_implementation = "eager"  # the transcribed path; SDPA agrees within 1e-6
                model = cls(hc)
            else:
                c = Cfg(dict(cd, num_labels=len(LABELS)))
                model = {"base": lambda: BertModel(c), "mlm": lambda: BertForMaskedLM(c),
                         "token-classification": lambda: BertForTokenClassification(c)}[head]()
            sd = random_state(model, gen)
            model.load_state_dict(sd, strict=False)  # position_ids may be absent
            model.eval()
            d = os.path.join(HERE, name, head)
            os.makedirs(d, exist_ok=True)
            with torch.no_grad():
                if head == "base":
                    o = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
                    exp["last_hidden_state"] = flat(o.last_hidden_state)
                    exp["pooler_output"] = flat(o.pooler_output)
                    exp["hidden_shape"] = list(o.last_hidden_state.shape)
                elif head == "mlm":
                    o = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=mlm_labels)
                    exp["mlm_logits"] = flat(o.logits)
                    exp["mlm_shape"] = list(o.logits.shape)
                    exp["mlm_loss"] = float(o.loss)
                else:
                    o = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=tok_labels)
                    exp["token_logits"] = flat(o.logits)
                    exp["token_shape"] = list(o.logits.shape)
                    exp["token_loss"] = float(o.loss)
            state = model.state_dict()
            if transformers is not None:
                if "safetensors" in formats:
                    model.save_pretrained(d, safe_serialization=True)
                if "bin" in formats:
                    model.save_pretrained(d, safe_serialization=False)
                cfg_text = open(os.path.join(d, "config.json")).read()
            else:
                cfg_text = json.dumps(cd, indent=2, sort_keys=True) + "\n"  # transformers_version omitted: no transformers involved
                with open(os.path.join(d, "config.json"), "w") as f:
                    f.write(cfg_text)
                if "safetensors" in formats:
                    # save_pretrained drops tied duplicates from safetensors
                    st = {k: v for k, v in state.items()
                          if k not in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")}
                    write_safetensors(os.path.join(d, "model.safetensors"), st)
                if "bin" in formats:
                    torch.save(state, os.path.join(d, "pytorch_model.bin"))
            if "legacy" in formats:
                # older HF versions also saved the position_ids buffer
                legacy = collections.OrderedDict(state)
                legacy["bert.embeddings.position_ids"] = torch.arange(CONFIGS[name]["max_position_embeddings"]).expand((1, -1))
                torch.save(legacy, os.path.join(d, "pytorch_model_legacy.bin"), _use_new_zipfile_serialization=False)
            keys = sorted(k for k in state if not k.endswith("position_ids"))
            with open(os.path.join(d, "keys.txt"), "w") as f:
                f.write("\n".join(keys) + "\n")
        with open(os.path.join(HERE, name, "expected.json"), "w") as f:
            f.write(dump_json(exp) + "\n")
    with open(os.path.join(HERE, "GENERATOR.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(report)


if __name__ == "__main__":
    main()
