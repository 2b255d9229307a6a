// Package bert is transformers' BERT (modeling_bert.py, v4.x eager path)
// on libtorch through gotch: BertModel, BertForMaskedLM and
// BertForTokenClassification, loading and saving HuggingFace model
// directories (config.json + model.safetensors or pytorch_model.bin) with
// parameter names equal to HF's state-dict keys.
//
// Contract:
//   - Threads: every exported method locks its goroutine to the OS thread
//     for its duration (libtorch's grad mode is per thread). Callers that
//     switch grad mode themselves lock the thread first.
//   - Memory: every exported method drops its intermediates and returns
//     tensors the caller owns and frees (MustDrop); Close frees a model's
//     parameters.
//   - Devices: a model lives on one device (LoadOptions.Device, CPU by
//     default); inputs on any device are moved to it. Input values are
//     checked on CPU tensors only (reading CUDA ones would sync).
//   - Precision: parameters, gradients and checkpoints are float32;
//     SetPrecision selects the compute precision (fp32 by default, bf16,
//     fp16 on CUDA only: ErrFP16NeedsCUDA).
//   - Errors: gotch's panics are recovered into errors. Callers branch
//     with errors.Is on ErrOutOfMemory (or IsOutOfMemory, which also knows
//     libtorch's raw messages), ErrModelNotFound, ErrMismatch and
//     ErrCancelled; ner and pretrain wrap the same values. A
//     checkpoint with a missing, unexpected, mis-shaped or non-finite
//     (ErrNonFinite) tensor is an error naming the file and the key;
//     LoadReport lists what was renamed, ignored, tied or initialised.
//   - Loading reads directories only; Resolve turns a Hub id or a training
//     run's output directory into one.
//
// docs/BERT.md has the equations, the mixed-precision rules, the loss and
// attention kernels and the loading rule table.
package bert
