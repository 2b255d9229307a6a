// Package engine is the training loop that package ner (NER fine-tuning)
// and package pretrain (masked-LM pretraining) share: micro-batches and
// gradient accumulation, precision and fp16 loss scaling, gradient
// clipping, AdamW with HF's linear schedule, deferred loss reads, the
// progress bar, the metrics log, checkpoints, resume, interruption and the
// memory cap. A trainer supplies only what is its own, as a Task: its
// batches (Task.NumBatches, Task.ForwardBackward), its forward pass and
// loss (cross-entropy, a CRF's likelihood or any other differentiable
// loss: the engine only back-propagates what ForwardBackward hands it),
// its evaluation (Task.EndEpoch) and its model files (Task.SaveModel), and
// the Model to optimise. The knobs are Options, one name and type each,
// after HF TrainingArguments; ner.TrainOptions and pretrain.Options embed
// them.
//
// A run:
//
//	r, _ := engine.Open(cfg)      device, memory cap, the checkpoint to resume (r.Checkpoint())
//	... load the model, from r.Checkpoint().Dir when resuming ...
//	r.Start(model, task)          precision, scaler, AdamW, schedule, optimizer state, metrics.jsonl
//	res, err := r.Train(ctx)      the loop (see Run.Train for one optimizer step)
//	r.Close()
//
// Reproducibility. The task's data order must be a function of (Seed,
// epoch) and libtorch's generators are reseeded before every micro-batch
// from (Seed, step, micro-batch) (DropoutSeed), so a checkpoint's step and
// Position are the run's complete random state: a run killed at any point
// and resumed ends with the weights of an uninterrupted run, bit for bit
// on the CPU. Checkpoints are trainstate's, written atomically with the
// SHA-256 of every file; a resume verifies them and falls back to the
// previous good checkpoint with a message. metrics.jsonl loses, on resume,
// the lines of steps after the checkpoint (the resumed run writes them
// again) and gets a "resume" line.
//
// Hook points for data-parallel training. Config.Sync (GradientSync) is
// called once per optimizer step between the last micro-batch's backward
// pass and unscaling/clipping: a c10d all-reduce averages the gradients
// there, once per step whatever GradAccum is. Task.NumBatches and
// MicroBatch are per process: a sharded sampler gives each rank its part
// of every epoch's order (same seed on every rank). Task.EndEpoch runs on
// every rank at the same step, so a task can shard its evaluation and
// combine the counts there. Every write of a run (checkpoints in
// Run.checkpoint, metrics.jsonl and the progress bar in Run.flush) is in
// one place, where a multi-process run lets only rank 0 write.
package engine
