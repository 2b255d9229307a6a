package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch/ts"
)

func init() {
	register(command{name: "forward", summary: "run a BERT model directory on token ids (JSON) and print logits or hidden states", run: runForward})
}

// forwardInput is the JSON read by biobertpt forward.
type forwardInput struct {
	InputIDs      [][]int64 `json:"input_ids"`
	AttentionMask [][]int64 `json:"attention_mask"`
	TokenTypeIDs  [][]int64 `json:"token_type_ids"`
}

const forwardUsage = "-model DIR -head base|mlm|token-classification -input IDS.json [-device cpu|cuda|cuda:N]"

func runForward(e *env, args []string) error {
	fs := newFlags(e, "forward", forwardUsage)
	model := fs.String("model", "", "HF model directory (config.json + model.safetensors or pytorch_model.bin)")
	head := fs.String("head", "base", "base (last_hidden_state), mlm or token-classification (logits)")
	input := fs.String("input", "", `JSON file {"input_ids":[[...]],"attention_mask":[[...]],"token_type_ids":[[...]]}; "-" reads stdin`)
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	if err := cli.ParseFlags(fs, args, cli.Device("device")); err != nil {
		return err
	}
	if *model == "" || *input == "" || fs.NArg() > 0 {
		return usagef("forward %s", forwardUsage)
	}
	h := bert.Head(*head)
	if h != bert.HeadBase && h != bert.HeadMaskedLM && h != bert.HeadTokenClassification {
		return usagef("forward: -head %q: want base, mlm or token-classification", *head)
	}
	dev, err := torchutil.ParseDevice(*device)
	if err != nil {
		return err
	}
	var r io.Reader = e.stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	var in forwardInput
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("read %s: %w", *input, err)
	}
	shape, err := in.shape()
	if err != nil {
		return fmt.Errorf("read %s: %w", *input, err)
	}
	if err := resolveModel(model); err != nil {
		return err
	}
	m, _, err := bert.FromPretrained(*model, h, bert.LoadOptions{Device: dev, Log: e.stderr})
	if err != nil {
		return err
	}
	s := tensors.NewScope()
	defer s.Drop()
	var bi bert.Inputs
	mk := func(rows [][]int64) (*ts.Tensor, error) {
		if rows == nil {
			return nil, nil
		}
		var flat []int64
		for _, r := range rows {
			flat = append(flat, r...)
		}
		t, err := tensors.FromInt64s(flat, shape, dev)
		return s.Add(t), err
	}
	if bi.InputIDs, err = mk(in.InputIDs); err != nil {
		return err
	}
	if bi.AttentionMask, err = mk(in.AttentionMask); err != nil {
		return err
	}
	if bi.TokenTypeIDs, err = mk(in.TokenTypeIDs); err != nil {
		return err
	}
	out, err := m.Forward(bi, false)
	if err != nil {
		return err
	}
	s.Add(out)
	vals, err := tensors.Float32s(out)
	if err != nil {
		return err
	}
	dims := out.MustSize()
	name := "logits"
	if h == bert.HeadBase {
		name = "last_hidden_state"
	}
	if err := bert.CheckFiniteOutput(name, vals); err != nil {
		return fmt.Errorf("forward %s: %w", *model, err)
	}
	// float32 values marshal with the shortest repr that round-trips float32.
	nested := make([][][]float32, dims[0])
	for b := range nested {
		nested[b] = make([][]float32, dims[1])
		for t := range nested[b] {
			off := (int64(b)*dims[1] + int64(t)) * dims[2]
			nested[b][t] = vals[off : off+dims[2]]
		}
	}
	w := bufio.NewWriter(e.stdout)
	if err := json.NewEncoder(w).Encode(map[string]any{name: nested}); err != nil {
		return err
	}
	return w.Flush()
}

// shape checks that the batch is rectangular and the optional mask and type
// ids match input_ids, and returns (B, T).
func (in forwardInput) shape() ([]int64, error) {
	if len(in.InputIDs) == 0 || len(in.InputIDs[0]) == 0 {
		return nil, fmt.Errorf("input_ids is empty")
	}
	t := len(in.InputIDs[0])
	for name, rows := range map[string][][]int64{"input_ids": in.InputIDs, "attention_mask": in.AttentionMask, "token_type_ids": in.TokenTypeIDs} {
		if rows == nil {
			continue
		}
		if len(rows) != len(in.InputIDs) {
			return nil, fmt.Errorf("%s has %d rows, input_ids %d", name, len(rows), len(in.InputIDs))
		}
		for i, r := range rows {
			if len(r) != t {
				return nil, fmt.Errorf("%s row %d has %d ids, want %d (pad every row to one length)", name, i, len(r), t)
			}
		}
	}
	return []int64{int64(len(in.InputIDs)), int64(t)}, nil
}
