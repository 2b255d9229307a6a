// Package pretrain continues the masked-language-model pretraining of a BERT
// model on Portuguese clinical and biomedical text, as BioBERTpt did
// (Schneider et al., "BioBERTpt - A Portuguese Neural Language Model for
// Clinical Named Entity Recognition", ClinicalNLP 2020): mBERT trained 5
// more epochs, batch 4, learning rate 2e-5, blocks of 512 tokens, 15%
// masking, on clinical notes (clin), on SciELO and PubMed (bio), or on
// both in turn (all). See Variants and DefaultOptions.
//
// The data pipeline (corpus, cache, blocks, masking, batching) imports no
// torch; the trainer (Train, Perplexity, checkpoints) builds on it with
// package bert. The pipeline mirrors HF transformers' examples/pytorch/language-modeling/run_mlm.py:
//
//	ExpandPaths → ReadCorpus (lines or paragraphs, gzip, optional sentence splitting)
//	  → BuildCache (encode once, in parallel, to a memory-mapped uint32 file keyed by CacheKey)
//	  → NewDatasets (group_texts blocks or line by line; validation documents held out)
//	  → Batcher + Masker (shuffled per epoch, dynamically masked per batch) → Batch
//
// Conventions.
//
// A sentence is one line of a file, or one sentence of a document when a
// SplitFunc is set; it is encoded without special tokens and becomes
// [CLS] ids [SEP] in an example. A document is a line (Lines) or a
// blank-line-separated block (Paragraphs); the validation split holds out
// whole documents.
//
// Masking (DataCollatorForLanguageModeling.torch_mask_tokens): each token
// other than [CLS], [SEP], [PAD] and [MASK] is selected with probability
// p = 0.15; a selected token's label is its id, and its input becomes
// [MASK] with probability 0.8, a uniform random id in [0, V) with
// probability 0.1, or stays. Unselected labels are IgnoreIndex (-100).
// The expected number of selected tokens of an example with n maskable
// tokens is p·n. Whole-word masking (DataCollatorForWholeWordMask) selects
// shuffled words (a "##" piece joins the preceding piece) until
// round(p·len) tokens are covered.
//
// Randomness is counter-based: the validation split uses PCG(Seed, c₁), the
// order of epoch e PCG(Seed, h(e)) and the masks of batch b of epoch e
// PCG(Seed, h(e, b)), with h a SplitMix64 hash. Every batch is therefore a
// function of (Seed, Position), and a Position is the whole random state a
// checkpoint must save for a resumed run to see the same batches and masks.
// Validation batches are masked the same way, so validation losses of
// different epochs are computed on the same masks.
//
// The cache file (see OpenCache) is a 128-byte header with CRC-32C checks,
// then the token ids as little-endian uint32, the sentence offsets and the
// document offsets as uint64. It is written to a temporary file, fsynced
// and renamed, and reused whenever CacheKey is unchanged; a corrupt file is
// reported as ErrCorruptCache and rebuilt by BuildCache.
//
// Training. Train runs the variant's stages (all = clin, then bio starting
// from clin's final model): masked batches → MLM loss over the masked
// positions only (divided by the accumulation group size) → backward →
// gradient clipping (1.0) → AdamW (weight decay 0.01, none on biases and
// LayerNorm weights) with a linear schedule (warmup, then decay to 0).
// The loop is internal/engine's, shared with package ner. Checkpoints
// (model, optimizer, step, data Position, the SHA-256 of every file) are
// written atomically every SaveSteps, at each epoch end and on
// cancellation; Resume continues from the newest checkpoint that
// validates, falling back to the previous good one. OutDir/run.json
// records the run (corpus files' SHA-256, the starting model, every
// option); a directory holding another run is refused unless Resume (same
// data and options) or OverwriteOutputDir (the old run is moved aside). Dropout is reproducible on resume because torch is reseeded from
// (Seed, step, micro-batch) before each micro-batch (see RNGRule). The final
// model is OutDir/final, an HF model directory. Perplexity masks each block
// with its own seed, so it does not depend on the batch size.
//
// Logs and the device. On CUDA the step losses and gradient norms stay on
// the device and are read every LogSteps steps (and before an evaluation,
// a checkpoint and the end), one copy for all of them, so a step never
// waits for the GPU (on the CPU they are read every step); metrics.jsonl gets a "train" line every LogSteps
// steps (loss, lr, grad_norm, epoch, tokens, peak_mem_gib, and with fp16
// loss_scale and skipped_steps) and an "eval" line per epoch. Precision
// fp16 trains with dynamic loss scaling (its scale is saved in the
// checkpoints); MaxMemoryGiB caps memory, and running out of memory is an
// error that says to lower the batch size and accumulate gradients.
package pretrain
