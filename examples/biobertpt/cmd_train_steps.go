package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

func init() {
	register(command{name: "train-steps", summary: "train on pre-tokenized batches and print the losses and lrs (parity check against HF)", run: runTrainSteps})
}

const trainStepsUsage = `-model DIR -head token-classification|mlm -batches F.json -steps N [-lr 3e-5] [-warmup-steps 0] [-weight-decay 0.01] [-clip 1.0] [-device cpu] [-seed 42]

F.json is {"batches":[{"input_ids":[[...]],"attention_mask":[[...]],
"token_type_ids":[[...]],"labels":[[...]]}, ...]} (labels -100 are ignored).
The batches are used in order, cycling when N exceeds their number; dropout
is as the model's config.json says (set it to 0 for an exact comparison).
Each step: loss (printed), backward, clip_grad_norm_, AdamW step with the
linear-with-warmup lr (printed), zero_grad. Output: {"losses":[...],"lrs":[...]}.`

// stepBatch is one pre-tokenized batch of train-steps' input.
type stepBatch struct {
	InputIDs      [][]int64 `json:"input_ids"`
	AttentionMask [][]int64 `json:"attention_mask"`
	TokenTypeIDs  [][]int64 `json:"token_type_ids"`
	Labels        [][]int64 `json:"labels"`
}

// flat returns a (B, T) matrix in row-major order; every row must have
// width t. A nil matrix gives nil.
func flat(name string, m [][]int64, b, t int) ([]int64, error) {
	if m == nil {
		return nil, nil
	}
	if len(m) != b {
		return nil, fmt.Errorf("%s has %d rows, input_ids %d", name, len(m), b)
	}
	out := make([]int64, 0, b*t)
	for i, r := range m {
		if len(r) != t {
			return nil, fmt.Errorf("%s row %d has %d columns, want %d", name, i, len(r), t)
		}
		out = append(out, r...)
	}
	return out, nil
}

// stepLoss is the loss of a model head on one batch.
type stepLoss func(in bert.Inputs, labels *ts.Tensor) (*ts.Tensor, error)

func runTrainSteps(e *env, args []string) error {
	fs := newFlags(e, "train-steps", trainStepsUsage)
	model := fs.String("model", "", "model directory (config.json, model.safetensors)")
	head := fs.String("head", "token-classification", "token-classification or mlm")
	batchesPath := fs.String("batches", "", "JSON file of pre-tokenized batches")
	steps := fs.Int("steps", 0, "optimizer steps")
	lr := fs.Float64("lr", 3e-5, "peak learning rate")
	warmup := fs.Int("warmup-steps", 0, "linear warmup steps")
	wd := fs.Float64("weight-decay", 0.01, "AdamW weight decay (not on biases and LayerNorm weights)")
	clip := fs.Float64("clip", 1.0, "gradient clipping max norm (0 = off)")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	seed := fs.Int64("seed", 42, "libtorch seed (dropout)")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("steps", 1), cli.AtLeast("lr", 0), cli.AtLeast("warmup-steps", 0), cli.AtLeast("weight-decay", 0), cli.AtLeast("clip", 0), cli.OneOf("head", "token-classification", "mlm"), cli.Device("device")); err != nil {
		return err
	}
	if *model == "" || *batchesPath == "" || *steps < 1 || fs.NArg() > 0 {
		return usagef("train-steps %s", trainStepsUsage)
	}
	if *head != "token-classification" && *head != "mlm" {
		return usagef("-head %q: want token-classification or mlm", *head)
	}
	if *lr < 0 || *warmup < 0 || *wd < 0 || *clip < 0 || math.IsNaN(*lr+*wd+*clip) {
		return usagef("-lr, -warmup-steps, -weight-decay and -clip must be >= 0")
	}
	raw, err := os.ReadFile(*batchesPath)
	if err != nil {
		return err
	}
	var in struct {
		Batches []stepBatch `json:"batches"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("%s: %w", *batchesPath, err)
	}
	if len(in.Batches) == 0 {
		return fmt.Errorf("%s: no batches", *batchesPath)
	}
	dev, err := torchutil.ParseDevice(*device)
	if err != nil {
		return usagef("%v", err)
	}
	if err := resolveModel(model); err != nil {
		return err
	}
	torchutil.ManualSeed(*seed)

	var params []bert.Param
	var loss stepLoss
	switch *head {
	case "token-classification":
		m, _, err := bert.LoadForTokenClassification(*model, bert.LoadOptions{Device: dev})
		if err != nil {
			return err
		}
		params = m.Parameters()
		loss = func(in bert.Inputs, y *ts.Tensor) (*ts.Tensor, error) { return m.Loss(in, y, true, nil) }
	default:
		m, _, err := bert.LoadForMaskedLM(*model, bert.LoadOptions{Device: dev})
		if err != nil {
			return err
		}
		params = m.Parameters()
		loss = func(in bert.Inputs, y *ts.Tensor) (*ts.Tensor, error) { return m.Loss(in, y, true) }
	}
	ao := optim.DefaultAdamWOptions()
	ao.WeightDecay = *wd
	opt, err := optim.NewAdamW(params, ao)
	if err != nil {
		return err
	}
	defer opt.Close()
	sched := optim.LinearSchedule{BaseLR: *lr, Warmup: *warmup, Total: *steps}
	out := struct {
		Losses []float64 `json:"losses"`
		LRs    []float64 `json:"lrs"`
	}{}
	for step := 0; step < *steps; step++ {
		k := step % len(in.Batches)
		l, err := trainOneStep(in.Batches[k], dev, loss)
		if err != nil {
			return fmt.Errorf("step %d (batch %d): %w", step+1, k, err)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("step %d (batch %d): loss %v: %w", step+1, k, l, bert.ErrNonFinite)
		}
		if *clip > 0 {
			if _, err := optim.ClipGradNorm(params, *clip); err != nil {
				return fmt.Errorf("step %d: %w", step+1, err)
			}
		}
		rate := sched.LR(step)
		if err := opt.Step(rate); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		if err := opt.ZeroGrad(); err != nil {
			return fmt.Errorf("step %d: %w", step+1, err)
		}
		out.Losses = append(out.Losses, l)
		out.LRs = append(out.LRs, rate)
	}
	enc := json.NewEncoder(e.stdout)
	return enc.Encode(out)
}

// trainOneStep computes one batch's loss and its gradients; it returns the
// loss.
func trainOneStep(b stepBatch, dev gotch.Device, loss stepLoss) (l float64, err error) {
	defer torchutil.Recover(&err)
	if len(b.InputIDs) == 0 || len(b.InputIDs[0]) == 0 {
		return 0, fmt.Errorf("empty input_ids")
	}
	rows, cols := len(b.InputIDs), len(b.InputIDs[0])
	shape := []int64{int64(rows), int64(cols)}
	s := tensors.NewScope()
	defer s.Drop()
	mk := func(name string, m [][]int64) (*ts.Tensor, error) {
		d, err := flat(name, m, rows, cols)
		if err != nil || d == nil {
			return nil, err
		}
		t, err := tensors.FromInt64s(d, shape, dev)
		return s.Add(t), err
	}
	var in bert.Inputs
	if in.InputIDs, err = mk("input_ids", b.InputIDs); err != nil {
		return 0, err
	}
	if in.AttentionMask, err = mk("attention_mask", b.AttentionMask); err != nil {
		return 0, err
	}
	if in.TokenTypeIDs, err = mk("token_type_ids", b.TokenTypeIDs); err != nil {
		return 0, err
	}
	if b.Labels == nil {
		return 0, fmt.Errorf("no labels")
	}
	y, err := mk("labels", b.Labels)
	if err != nil {
		return 0, err
	}
	lt, err := loss(in, y)
	if err != nil {
		return 0, err
	}
	s.Add(lt)
	if l, err = lt.Float64Value([]int64{}); err != nil {
		return 0, err
	}
	if err := lt.Backward(); err != nil {
		return 0, fmt.Errorf("backward: %w", err)
	}
	return l, nil
}
