package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/biobertpt-go/biobertpt/examples/internal/bench"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

func init() {
	register(command{name: "bench", summary: "time the training step (hf_bench.py's JSON line: ms/step, tokens/s, peak memory)", run: runBench})
}

const benchUsage = `-task ner|mlm -batch N -seq L -dtype fp32|tf32|bf16|fp16 -steps S -warmup W [-device cpu|cuda|cuda:N] [-config mbert|small|tiny|PATH/config.json] [-attn auto|sdpa|manual] [-qkv auto|fused|separate] [-cuda-graph] [-adamw auto|fused|foreach|single-tensor] [-json] [-soak N] [-max-memory GiB]

Builds a fresh model of the config (mbert: vocab 119,547, hidden 768, 12
layers, dropout 0.1, as HF's reference hf_bench.py), one random batch with
hf_bench.py's recipe, and times W warmup then S timed training steps
(forward + loss + backward + clip 1.0 + AdamW + zero grad). Prints one JSON
line with hf_bench.py's fields; without -json also a one-line summary on
stderr. -soak N runs N more steps and reports tensors and resident memory
before and after them (a leak check). -max-memory GiB caps the device's
memory from before the model is built: on CUDA the caching allocator
refuses to reserve more, so a step that needs more fails as out of memory;
on the CPU the peak resident set is checked after the timed steps. Either
way the command fails with advice to reduce -batch and use -grad-accum;
the JSON line reports the cap as max_memory_gib.`

func runBench(e *env, args []string) error {
	d := bench.DefaultOptions()
	fs := newFlags(e, "bench", benchUsage)
	task := fs.String("task", d.Task, "ner or mlm")
	batch := fs.Int("batch", d.Batch, "batch size")
	seq := fs.Int("seq", d.Seq, "sequence length")
	dtype := fs.String("dtype", d.DType, "fp32, tf32 (CUDA libtorch and device), bf16 (bf16 compute, fp32 master weights) or fp16 (CUDA only; fp16 compute with loss scaling)")
	steps := fs.Int("steps", d.Steps, "timed steps")
	warmup := fs.Int("warmup", d.Warmup, "untimed warmup steps")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	config := fs.String("config", "mbert", "mbert, small, tiny or a config.json path")
	attn := fs.String("attn", d.Attention, "attention kernel: auto, sdpa or manual")
	qkv := fs.String("qkv", "auto", "q/k/v projection: auto (the library default, fused), fused (one (3H, H) matmul) or separate (three)")
	graph := fs.Bool("cuda-graph", false, "capture the step once as a CUDA graph and time its replays (CUDA, fused AdamW, not fp16)")
	adamw := fs.String("adamw", d.AdamW, "AdamW kernel: auto (fused on CUDA with libtorch >= 2, else foreach), fused, foreach or single-tensor")
	dropout := fs.Float64("dropout", d.Dropout, "hidden and attention dropout")
	seed := fs.Int64("seed", d.Seed, "libtorch and batch seed")
	soak := fs.Int("soak", 0, "extra steps for the leak check (0 = off)")
	maxMem := fs.Float64("max-memory", 0, "memory cap in GiB (0 = none): CUDA allocator cap, or peak host RSS on the CPU")
	jsonOnly := fs.Bool("json", false, "print only the JSON line")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("batch", 1), cli.AtLeast("seq", 2), cli.AtLeast("steps", 1), cli.AtLeast("warmup", 0), cli.AtLeast("dropout", 0), cli.Below("dropout", 1), cli.AtLeast("soak", 0), cli.AtLeast("max-memory", 0), cli.Device("device")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q; usage: bench %s", fs.Args(), benchUsage)
	}
	cfg, name, err := bench.ResolveConfig(*config)
	if err != nil {
		return usagef("%v", err)
	}
	o := d
	o.Task, o.Batch, o.Seq, o.DType, o.Steps, o.Warmup = *task, *batch, *seq, *dtype, *steps, *warmup
	o.Config, o.ConfigName, o.Attention, o.Dropout, o.Seed, o.Soak = cfg, name, *attn, *dropout, *seed, *soak
	o.AdamW, o.MaxMemoryGiB, o.QKV, o.CUDAGraph = *adamw, *maxMem, *qkv, *graph
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}
	if o.Device, err = torchutil.ParseDevice(*device); err != nil {
		return usagef("%v", err)
	}

	// Stock gotch's Must* functions report a libtorch failure inside the
	// forward pass through log.Fatal: make an out-of-memory end with the
	// hint. (The patched gotch panics instead, and bench.Run returns it.)
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(bench.OOMHintWriter(e.stderr, "biobertpt bench"))
	defer func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) }()

	res, err := bench.Run(o)
	if err != nil {
		if errors.Is(err, bench.ErrUsage) {
			return usagef("%v", err)
		}
		return err
	}
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(e.stdout, "%s\n", line); err != nil {
		return err
	}
	if !*jsonOnly {
		mem := "n/a"
		if res.PeakMemGiB != nil {
			mem = fmt.Sprintf("%.3f GiB (%s)", *res.PeakMemGiB, res.PeakMemKind)
		}
		if res.MaxMemoryGiB != nil {
			mem += fmt.Sprintf(" (cap %g GiB)", *res.MaxMemoryGiB)
		}
		fmt.Fprintf(e.stderr, "bench: %s %d×%d %s on %s: %.3f ms/step, %.1f tokens/s, peak memory %s, %s\n",
			res.Task, res.Batch, res.Seq, res.DType, res.Device, res.MsPerStep, res.TokensPerS, mem, res.Optim)
		if s := res.Soak; s != nil {
			fmt.Fprintf(e.stderr, "bench: soak %d steps: tensors %d → %d, RSS %.1f → %.1f MiB (max %.1f)\n",
				s.Steps, s.TensorsStart, s.TensorsEnd, s.RSSStartMiB, s.RSSEndMiB, s.RSSMaxMiB)
		}
	}
	return nil
}
