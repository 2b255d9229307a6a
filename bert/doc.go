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
// SDPA-vs-manual test skips. The parameter dtype, float32, is chosen in one
// place (modelDType).
//
// # Mixed precision
//
// SetPrecision selects the compute precision, one option for all three
// models: PrecisionFP32 (DefaultPrecision), PrecisionBF16 or PrecisionFP16.
// gotch wraps no torch.autocast, so bf16 and fp16 are explicit casts that
// follow autocast's rules (the same for both; "low" is bfloat16 or float16):
//
//	parameters, gradients, optimizer state, checkpoints   float32 (master weights)
//	linear layers (Q, K, V, attention output, FFN,        low: each weight and bias cast once
//	  MLM transform and tied decoder, classifier, pooler)   per forward pass (a cast cache), inputs cast
//	attention matmuls QKᵀ, PV (and SDPA)                 low
//	embeddings, residual adds, LayerNorm, softmax        float32 (the float32 residual and mask
//	                                                       promote low results, as in HF)
//	logits, losses, returned tensors                     float32
//
// The additive attention mask is float32 with finfo(float32).min, except
// for SDPA under autocast, whose mask has the query's dtype and that
// dtype's finfo.min (maskMin: −3.39e38 for bf16, −65504 for fp16).
//
// The casts are differentiable, so backward reaches the float32 parameters
// and their gradients are float32. bf16 needs no loss scaling (its exponent
// range is float32's). fp16 does: its gradients underflow below 2⁻²⁴ and
// its range ends at 65504, so fp16 training multiplies the loss by a
// dynamic scale before backward and unscales the float32 gradients before
// clipping and the update, skipping steps whose gradients overflowed
// (internal/optim.GradScaler, torch.cuda.amp.GradScaler's protocol). fp16
// runs on CUDA only: Debian's CPU libtorch 1.13 has no float16 kernels for
// addmm, layer_norm or softmax, so SetPrecision(PrecisionFP16) on a CPU
// model returns ErrFP16NeedsCUDA. bf16 is the recommended precision on CUDA
// GPUs with native bf16 (compute capability ≥ 8.0); fp16 with loss scaling
// is the one for GPUs with fp16 tensor cores but no bf16 (7.x: V100, Turing
// RTX 20xx). fp32 stays the default because the low precisions' GPU speed
// has not been measured here and the CPU runs bf16 slowly. Debian's CPU
// libtorch 1.13 also accumulates some bf16 matmuls in bf16 (those whose
// reduction dimension is strided in memory, such as the decoder's input
// gradient over the vocabulary), so bf16 training on that CPU build lags
// fp32.
//
// Losses are mean cross-entropy over labels ≠ -100 (IgnoreIndex). The MLM
// loss projects only the labelled positions onto the vocabulary: Loss finds
// them with nonzero (a device→host sync on CUDA), LossAt takes them from the
// caller (flat positions known on the host) and reads nothing back.
//
// Fused QKV: self-attention can project query, key and value with one
// matmul against the concatenated [Wq; Wk; Wv] (3H, H) instead of three
// (Model.SetFusedQKV; the default). The parameters stay HF's three tensors, so checkpoints and the
// optimizer see no difference; the concatenation is in the autograd graph.
//
// Errors: the patched gotch that setup prepares panics where stock gotch
// calls log.Fatal; every exported method recovers such a panic into its
// error. Callers branch with errors.Is on ErrOutOfMemory (or
// IsOutOfMemory, which also knows libtorch's raw messages),
// ErrModelNotFound, ErrMismatch and ErrCancelled; ner and pretrain wrap
// the same values.
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
// what was renamed, ignored, tied or freshly initialised. Every tensor the
// model takes is checked for NaN and ±Inf (CheckFinite, a scan of the
// exponent bits that costs well under the file read); a non-finite weight
// is an error wrapping ErrNonFinite that names the tensor.
package bert
