// Package bert is transformers' BERT (modeling_bert.py, v4.x eager path)
// on libtorch through gotch: BertModel, BertForMaskedLM and
// BertForTokenClassification, loading and saving HuggingFace model
// directories (config.json + model.safetensors or pytorch_model.bin) with
// parameter names equal to HF's state-dict keys.
//
// Equations (B batch, T length, H hidden, h heads, d = H/h):
//
//	emb  = LayerNorm(W_word[ids] + W_pos[0..T) + W_type[types])          then dropout
//	ext  = (1 − mask)[:, None, None, :] · finfo(float32).min             (B, 1, 1, T)
//	attn = softmax(Q Kᵀ / √d + ext) V  per head                         (B, h, T, d)
//	a    = LayerNorm(dropout(attn W_o + b_o) + x)
//	y    = LayerNorm(dropout(act(a W_i + b_i) W_out + b_out) + a)        act = hidden_act
//	mlm  = LayerNorm(act(y W_t + b_t)) W_wordᵀ + cls.predictions.bias    (decoder tied)
//	tok  = dropout(y) W_c + b_c
//
// Attention uses libtorch's fused scaled_dot_product_attention when the
// linked libtorch has it (≥ 2.0, probed once per model) and the manual
// matmul → scale → mask → softmax → dropout → matmul path otherwise; Debian's
// libtorch 1.13 has no SDPA, so there the manual path runs and the
// SDPA-vs-manual test skips. The float32 dtype is chosen in one place
// (modelDType).
//
// Losses are mean cross-entropy over labels ≠ -100 (IgnoreIndex). The MLM
// loss projects only the labelled positions onto the vocabulary.
//
// Threads and memory: every exported method locks its goroutine to the OS
// thread for its duration (libtorch grad mode is per thread), drops every
// intermediate before returning, and returns exactly one tensor the caller
// owns. Callers that switch grad mode themselves must lock the thread first.
//
// Loading follows one rule table (see load in checkpoint.go): the "bert."
// prefix is added or stripped, gamma/beta become weight/bias, position_ids
// buffers and other heads' weights are ignored, the MLM decoder is tied to
// the word embeddings; any other missing, unexpected, non-float or
// mis-shaped key is an error naming the file and the key. LoadReport lists
// what was renamed, ignored, tied or freshly initialised.
package bert
