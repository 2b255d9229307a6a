package bert

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// File names inside a model directory (HF conventions).
const (
	ConfigFile      = "config.json"
	SafetensorsFile = "model.safetensors"
	TorchFile       = "pytorch_model.bin"
)

// LoadOptions configures the Load functions. The zero value loads onto the
// CPU and requires every weight.
type LoadOptions struct {
	// Device holds the parameters; the zero value means gotch.CPU.
	Device gotch.Device
	// Labels (token classification only) replace config.json's id2label;
	// nil keeps it.
	Labels []string
	// AllowNewHead initialises head weights (classifier.*, pooler.*) that the
	// checkpoint lacks or holds with another shape, as HF does when putting
	// a head on a pretrained encoder; they are listed in
	// LoadReport.Initialized.
	AllowNewHead bool
	// Log receives notices, such as LoadModel's fresh pooler for a
	// checkpoint without one; nil = silent.
	Log io.Writer
}

func (o LoadOptions) device() gotch.Device {
	if o.Device.Name == "" {
		return gotch.CPU
	}
	return o.Device
}

// LoadReport says how a checkpoint's keys were matched. Keys are the
// checkpoint's own, before renaming.
type LoadReport struct {
	File        string   // the weights file read
	Renamed     []string // "old -> new" (bert. prefix added/stripped, gamma/beta)
	Ignored     []string // keys the model does not use (other heads, pooler, position_ids)
	Tied        []string // keys tied to another parameter (decoder weight/bias)
	Initialized []string // parameters left at their fresh initialisation (AllowNewHead)
}

// weightsFile finds model.safetensors, else pytorch_model.bin, in dir.
func weightsFile(dir string) (string, error) {
	for _, n := range []string{SafetensorsFile, TorchFile} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat(filepath.Join(dir, SafetensorsFile+".index.json")); err == nil {
		return "", fmt.Errorf("bert: load %s: sharded checkpoints (model.safetensors.index.json) are not supported", dir)
	}
	return "", fmt.Errorf("bert: load %s: no %s or %s: %w", dir, SafetensorsFile, TorchFile, os.ErrNotExist)
}

// ReadWeights reads a weights file (safetensors or PyTorch pickle, zip or
// legacy format) into safetensors tensors, without libtorch.
func ReadWeights(path string) (map[string]safetensors.Tensor, error) {
	if strings.HasSuffix(path, ".safetensors") {
		t, _, err := safetensors.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("bert: load %s: %w", path, err)
		}
		return t, nil
	}
	t, err := readTorchFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: load %s: %w", path, err)
	}
	return t, nil
}

// loadDir reads config.json (validated) and the weights of dir.
func loadDir(dir string) (*Config, map[string]safetensors.Tensor, string, error) {
	c, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, nil, "", err
	}
	file, err := weightsFile(dir)
	if err != nil {
		return nil, nil, "", err
	}
	w, err := ReadWeights(file)
	if err != nil {
		return nil, nil, "", err
	}
	return c, w, file, nil
}

// LoadModel loads a BertModel (with pooler) from dir. Head weights in the
// checkpoint (cls.*, classifier.*) are ignored and reported. A checkpoint
// without a pooler (HF's BertForTokenClassification and BertForMaskedLM
// build BertModel(add_pooling_layer=False)) loads as HF's
// BertModel.from_pretrained loads it: the pooler is freshly initialised,
// listed in LoadReport.Initialized and noticed on o.Log;
// last_hidden_state is the checkpoint's, pooler_output is not meaningful.
func LoadModel(dir string, o LoadOptions) (*Model, *LoadReport, error) {
	m, rep, err := loadAs(dir, o, "", NewModel)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range rep.Initialized {
		if strings.HasPrefix(k, "pooler.") {
			if o.Log != nil {
				fmt.Fprintf(o.Log, "bert: %s has no pooler (a token-classification or masked-LM checkpoint): pooler.dense initialised fresh; last_hidden_state is the checkpoint's, pooler_output is not trained\n", rep.File)
			}
			break
		}
	}
	return m, rep, nil
}

// LoadForMaskedLM loads a BertForMaskedLM from dir; a BertForPreTraining
// checkpoint (mBERT, BioBERTpt) works too, its NSP head is ignored.
func LoadForMaskedLM(dir string, o LoadOptions) (*ForMaskedLM, *LoadReport, error) {
	return loadAs(dir, o, "bert.", NewForMaskedLM)
}

// LoadForTokenClassification loads a BertForTokenClassification from dir.
// With o.Labels the model gets those labels; a checkpoint without a matching
// classifier then needs o.AllowNewHead.
func LoadForTokenClassification(dir string, o LoadOptions) (*ForTokenClassification, *LoadReport, error) {
	return loadAs(dir, o, "bert.", func(c *Config, dev gotch.Device) (*ForTokenClassification, error) {
		if o.Labels != nil {
			if err := c.SetLabels(o.Labels); err != nil {
				return nil, err
			}
		}
		return NewForTokenClassification(c, dev)
	})
}

// loadAs reads dir's config.json and weights, builds the model with
// newModel on o's device and loads the weights into it (load, with the
// model's keys under prefix: "" for BertModel, "bert." for the heads).
func loadAs[M Pretrained](dir string, o LoadOptions, prefix string, newModel func(*Config, gotch.Device) (M, error)) (M, *LoadReport, error) {
	var none M
	c, w, file, err := loadDir(dir)
	if err != nil {
		return none, nil, err
	}
	m, err := newModel(c, o.device())
	if err != nil {
		return none, nil, err
	}
	rep, err := load(m.VarStore(), m.Parameters(), prefix, w, file, o)
	if err != nil {
		return none, nil, err
	}
	return m, rep, nil
}

// Head names a model class for FromPretrained and the CLI.
type Head string

// The heads.
const (
	HeadBase                Head = "base"                 // BertModel
	HeadMaskedLM            Head = "mlm"                  // BertForMaskedLM
	HeadTokenClassification Head = "token-classification" // BertForTokenClassification
)

// Pretrained is what the three model types share.
type Pretrained interface {
	// Forward returns last_hidden_state (base) or logits (heads).
	Forward(in Inputs, train bool) (*ts.Tensor, error)
	Save(dir string) error
	Config() *Config
	VarStore() *nn.VarStore
	Parameters() []Param
	Device() gotch.Device
}

// FromPretrained loads head from the HF model directory dir. It does not
// download: Resolve turns a Hub id or a training run's output directory
// into a model directory first.
func FromPretrained(dir string, head Head, o LoadOptions) (Pretrained, *LoadReport, error) {
	// Each case returns a nil interface on error, never an interface
	// holding a nil pointer.
	switch head {
	case HeadBase:
		m, rep, err := LoadModel(dir, o)
		if err != nil {
			return nil, nil, err
		}
		return m, rep, nil
	case HeadMaskedLM:
		m, rep, err := LoadForMaskedLM(dir, o)
		if err != nil {
			return nil, nil, err
		}
		return m, rep, nil
	case HeadTokenClassification:
		m, rep, err := LoadForTokenClassification(dir, o)
		if err != nil {
			return nil, nil, err
		}
		return m, rep, nil
	}
	return nil, nil, fmt.Errorf("bert: unknown head %q (base, mlm, token-classification)", head)
}

// HubOptions configures Resolve's download of a Hub id.
type HubOptions struct {
	Revision string // "" = main
	Offline  bool   // cache only
	CacheDir string // "" = HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub
	Token    string // "" = $HF_TOKEN
}

// Resolve returns the model directory nameOrDir names, for the loaders and
// tokenize.Load: a model directory itself; a training run's output
// directory's final/ (pretraining) or best/ (NER) model; else the snapshot
// of a Hub id ("org/name[@revision]") in the HuggingFace cache, downloaded
// when missing (config.json, the weights, vocab.txt and the tokenizer
// files). ctx cancels the download. The commands and pretrain resolve
// models the same way.
func Resolve(ctx context.Context, nameOrDir string, o HubOptions) (string, error) {
	d, err := hub.Resolve(ctx, nameOrDir, hub.Options{Revision: o.Revision, Offline: o.Offline, CacheDir: o.CacheDir, Token: o.Token})
	if err != nil {
		return "", fmt.Errorf("bert: %w", err)
	}
	return d, nil
}

// isHeadKey reports whether a model key belongs to a head that
// AllowNewHead may initialise.
func isHeadKey(k string) bool {
	return strings.HasPrefix(k, "classifier.") || strings.HasPrefix(k, "pooler.") || strings.HasPrefix(k, "bert.pooler.")
}

// load copies checkpoint tensors into params following one table of rules:
//
//	checkpoint key                         action
//	"bert." + k, model has no prefix       strip "bert."          (Renamed)
//	k, model keys carry "bert."            add "bert."            (Renamed)
//	*.gamma / *.beta                       *.weight / *.bias      (Renamed)
//	*position_ids                          ignore                 (Ignored)
//	pooler.*, cls.*, classifier.* unused   ignore other heads     (Ignored)
//	cls.predictions.decoder.weight         tied to word emb.      (Tied)
//	cls.predictions.decoder.bias           alias of cls.predictions.bias (Tied, or
//	                                       Renamed when the bias itself is absent)
//
// Anything else unexpected, missing, of a non-float dtype or of the wrong
// shape is an error naming the file and every offending key; so is a used
// tensor holding NaN or ±Inf (CheckFinite, wrapping ErrNonFinite).
func load(vs *nn.VarStore, params []Param, prefix string, w map[string]safetensors.Tensor, file string, o LoadOptions) (*LoadReport, error) {
	rep := &LoadReport{File: file}
	want := make(map[string]*ts.Tensor, len(params))
	for _, p := range params {
		want[p.Name] = p.Tensor
	}
	src := map[string]safetensors.Tensor{}
	from := map[string]string{}
	var unexpected []string
	for _, k := range sortedKeys(w) {
		n := k
		if prefix == "" && strings.HasPrefix(n, "bert.") {
			n = strings.TrimPrefix(n, "bert.")
		} else if prefix != "" && !strings.HasPrefix(n, prefix) {
			for _, top := range []string{"embeddings.", "encoder.", "pooler."} {
				if strings.HasPrefix(n, top) {
					n = prefix + n
				}
			}
		}
		if strings.HasSuffix(n, ".gamma") {
			n = strings.TrimSuffix(n, ".gamma") + ".weight"
		} else if strings.HasSuffix(n, ".beta") {
			n = strings.TrimSuffix(n, ".beta") + ".bias"
		}
		_, wanted := want[n]
		switch {
		case wanted:
		case strings.HasSuffix(n, "position_ids"):
			rep.Ignored = append(rep.Ignored, k)
			continue
		case n == "cls.predictions.decoder.weight" && want["cls.predictions.bias"] != nil:
			rep.Tied = append(rep.Tied, k+" -> "+prefix+"embeddings.word_embeddings.weight")
			continue
		case n == "cls.predictions.decoder.bias" && want["cls.predictions.bias"] != nil:
			if _, has := w["cls.predictions.bias"]; has {
				rep.Tied = append(rep.Tied, k+" -> cls.predictions.bias")
				continue
			}
			n = "cls.predictions.bias"
		case strings.HasPrefix(n, "cls.") || strings.HasPrefix(n, "classifier.") ||
			strings.HasPrefix(n, "pooler.") || strings.HasPrefix(n, "bert.pooler."):
			rep.Ignored = append(rep.Ignored, k)
			continue
		default:
			unexpected = append(unexpected, k)
			continue
		}
		if n != k {
			rep.Renamed = append(rep.Renamed, k+" -> "+n)
		}
		src[n] = w[k]
		from[n] = k
	}
	// A BertModel (prefix "") from a checkpoint with no pooler at all gets
	// a fresh one, as HF's BertModel.from_pretrained does.
	freshPooler := prefix == ""
	for n := range src {
		if strings.HasPrefix(n, "pooler.") {
			freshPooler = false
		}
	}
	var problems, missing []string
	for _, p := range params {
		t, ok := src[p.Name]
		if !ok {
			if o.AllowNewHead && isHeadKey(p.Name) || freshPooler && strings.HasPrefix(p.Name, "pooler.") {
				rep.Initialized = append(rep.Initialized, p.Name)
				continue
			}
			missing = append(missing, fmt.Sprintf("%q", p.Name))
			continue
		}
		wantShape := p.Tensor.MustSize()
		if !slices.Equal(t.Shape, wantShape) {
			if o.AllowNewHead && isHeadKey(p.Name) {
				rep.Initialized = append(rep.Initialized, p.Name)
				delete(src, p.Name)
				continue
			}
			msg := fmt.Sprintf("%q: shape %v, want %v", from[p.Name], t.Shape, wantShape)
			if strings.HasSuffix(p.Name, "word_embeddings.weight") && len(t.Shape) == 2 && len(wantShape) == 2 && t.Shape[0] != wantShape[0] {
				msg += fmt.Sprintf(" (config.json vocab_size %d, checkpoint has %d rows)", wantShape[0], t.Shape[0])
			}
			if p.Name == "classifier.weight" && len(t.Shape) == 2 && len(wantShape) == 2 && t.Shape[0] != wantShape[0] {
				msg += fmt.Sprintf(" (%d labels wanted, checkpoint has %d; set AllowNewHead for a fresh classifier)", wantShape[0], t.Shape[0])
			}
			problems = append(problems, msg)
			continue
		}
		switch t.DType {
		case safetensors.F32, safetensors.F16, safetensors.BF16, safetensors.F64:
		default:
			problems = append(problems, fmt.Sprintf("%q: dtype %s, want a floating-point dtype (F32, F16, BF16)", from[p.Name], t.DType))
		}
	}
	if len(missing) > 0 {
		hint := ""
		if o.Labels != nil || !o.AllowNewHead {
			for _, m := range missing {
				if isHeadKey(strings.Trim(m, `"`)) {
					hint = " (set AllowNewHead to initialise a new head)"
					break
				}
			}
		}
		problems = append(problems, "missing "+strings.Join(missing, ", ")+hint)
	}
	if len(unexpected) > 0 {
		q := make([]string, len(unexpected))
		for i, u := range unexpected {
			q[i] = fmt.Sprintf("%q", u)
		}
		problems = append(problems, "unexpected "+strings.Join(q, ", "))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("bert: load %s: %s", filepath.Base(file), strings.Join(problems, "; "))
	}
	used := make(map[string]safetensors.Tensor, len(src))
	for n, t := range src {
		used[from[n]] = t
	}
	if err := CheckFinite(used); err != nil {
		return nil, fmt.Errorf("bert: load %s: %w", filepath.Base(file), err)
	}
	err := copyParams(params, src)
	if err != nil {
		return nil, fmt.Errorf("bert: load %s: %w", filepath.Base(file), err)
	}
	return rep, nil
}

func copyParams(params []Param, src map[string]safetensors.Tensor) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return torchutil.NoGrad(func() error {
		for _, p := range params {
			t, ok := src[p.Name]
			if !ok {
				continue
			}
			x, err := tensors.FromSafetensors(t, gotch.CPU)
			if err != nil {
				return fmt.Errorf("%q: %w", p.Name, err)
			}
			p.Tensor.Copy_(x) // converts dtype and device; shapes checked above
			x.MustDrop()
		}
		return nil
	})
}

// saveDir writes config.json (architectures set to arch) and
// model.safetensors with the given parameters (plus aliases) into dir. Each
// file is written to a temporary name and renamed.
func saveDir(dir string, c *Config, arch string, params []Param, alias map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bert: save: %w", err)
	}
	out := make(map[string]safetensors.Tensor, len(params)+len(alias))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, p := range params {
		t, err := tensors.ToSafetensors(p.Tensor)
		if err != nil {
			return fmt.Errorf("bert: save %q: %w", p.Name, err)
		}
		out[p.Name] = t
	}
	for a, k := range alias {
		out[a] = out[k]
	}
	cc := c.Clone()
	cc.Architectures = []string{arch}
	cc.ModelType = "bert"
	cc.TorchDType = "float32"
	if err := safetensors.WriteFile(filepath.Join(dir, SafetensorsFile), out, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("bert: save: %w", err)
	}
	if err := cc.Save(filepath.Join(dir, ConfigFile)); err != nil {
		return err
	}
	return nil
}

// Save writes config.json and model.safetensors (BertModel keys, without
// the "bert." prefix a head's encoder carries) into dir.
func (m *Model) Save(dir string) error {
	params := make([]Param, len(m.params))
	for i, p := range m.params {
		params[i] = Param{Name: strings.TrimPrefix(p.Name, "bert."), Tensor: p.Tensor}
	}
	return saveDir(dir, m.cfg, "BertModel", params, nil)
}

// Save writes config.json and model.safetensors into dir. Like HF, the tied
// decoder weight is not stored; cls.predictions.decoder.bias is written as a
// copy of cls.predictions.bias.
func (m *ForMaskedLM) Save(dir string) error {
	return saveDir(dir, m.Bert.cfg, "BertForMaskedLM", m.params, map[string]string{"cls.predictions.decoder.bias": "cls.predictions.bias"})
}

// Save writes config.json (with id2label/label2id) and model.safetensors.
func (m *ForTokenClassification) Save(dir string) error {
	return saveDir(dir, m.Bert.cfg, "BertForTokenClassification", m.params, nil)
}

// NumParameters counts the elements of params (the tied decoder counted once).
func NumParameters(params []Param) int64 {
	var n int64
	for _, p := range params {
		n += int64(p.Tensor.Numel())
	}
	return n
}

// sortedNames returns the parameter names sorted.
func sortedNames(params []Param) []string {
	n := make([]string, len(params))
	for i, p := range params {
		n[i] = p.Name
	}
	sort.Strings(n)
	return n
}
