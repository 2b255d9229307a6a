package bert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"os"
	"sort"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
)

// Config is transformers' BertConfig as stored in config.json
// (configuration_bert.py). Keys this type does not know are kept in Extra
// and written back unchanged.
type Config struct {
	VocabSize                 int     `json:"vocab_size"`                   // 30522
	HiddenSize                int     `json:"hidden_size"`                  // 768
	NumHiddenLayers           int     `json:"num_hidden_layers"`            // 12
	NumAttentionHeads         int     `json:"num_attention_heads"`          // 12
	IntermediateSize          int     `json:"intermediate_size"`            // 3072
	HiddenAct                 string  `json:"hidden_act"`                   // "gelu" (erf), "gelu_new" (tanh), "relu"
	HiddenDropoutProb         float64 `json:"hidden_dropout_prob"`          // 0.1
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob"` // 0.1
	MaxPositionEmbeddings     int     `json:"max_position_embeddings"`      // 512
	TypeVocabSize             int     `json:"type_vocab_size"`              // 2
	InitializerRange          float64 `json:"initializer_range"`            // 0.02
	LayerNormEps              float64 `json:"layer_norm_eps"`               // 1e-12
	PadTokenID                int     `json:"pad_token_id"`                 // 0
	PositionEmbeddingType     string  `json:"position_embedding_type"`      // "absolute" (the only one supported)
	UseCache                  bool    `json:"use_cache"`                    // true; unused by an encoder
	// ClassifierDropout is the token-classification dropout; nil means
	// HiddenDropoutProb, as in HF.
	ClassifierDropout *float64 `json:"classifier_dropout"`

	ID2Label      map[int]string `json:"id2label,omitempty"` // HF writes string keys: {"0": "O"}
	Label2ID      map[string]int `json:"label2id,omitempty"`
	Architectures []string       `json:"architectures,omitempty"`
	ModelType     string         `json:"model_type"` // "bert"
	// TorchDType is the dtype the weights were saved in ("float32").
	TorchDType          string `json:"torch_dtype,omitempty"`
	TransformersVersion string `json:"transformers_version,omitempty"`

	// Extra holds config.json keys not listed above, verbatim.
	Extra map[string]json.RawMessage `json:"-"`
}

// DefaultConfig returns BertConfig's defaults (bert-base-uncased sizes).
func DefaultConfig() *Config {
	return &Config{
		VocabSize:                 30522,
		HiddenSize:                768,
		NumHiddenLayers:           12,
		NumAttentionHeads:         12,
		IntermediateSize:          3072,
		HiddenAct:                 "gelu",
		HiddenDropoutProb:         0.1,
		AttentionProbsDropoutProb: 0.1,
		MaxPositionEmbeddings:     512,
		TypeVocabSize:             2,
		InitializerRange:          0.02,
		LayerNormEps:              1e-12,
		PadTokenID:                0,
		PositionEmbeddingType:     "absolute",
		UseCache:                  true,
		ModelType:                 "bert",
	}
}

// TinyConfig returns a tiny configuration in the spirit of HF's
// hf-internal-testing/tiny-bert for fast tests: vocab 100, hidden 32,
// 2 layers, 4 heads, intermediate 37, 64 positions.
func TinyConfig() *Config {
	c := DefaultConfig()
	c.VocabSize = 100
	c.HiddenSize = 32
	c.NumHiddenLayers = 2
	c.NumAttentionHeads = 4
	c.IntermediateSize = 37
	c.MaxPositionEmbeddings = 64
	return c
}

// configAlias has Config's fields without its methods.
type configAlias Config

// UnmarshalJSON reads config.json over the receiver's current values (so
// missing keys keep their defaults) and keeps unknown keys in Extra.
func (c *Config) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(b, (*configAlias)(c)); err != nil {
		return err
	}
	known := knownKeys()
	c.Extra = nil
	for k, v := range raw {
		if !known[k] {
			if c.Extra == nil {
				c.Extra = map[string]json.RawMessage{}
			}
			c.Extra[k] = v
		}
	}
	return nil
}

// MarshalJSON writes every known field plus Extra, keys sorted, as HF does.
func (c Config) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(configAlias(c))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range c.Extra {
		if _, clash := m[k]; !clash {
			m[k] = v
		}
	}
	return json.Marshal(m) // maps marshal with sorted keys
}

func knownKeys() map[string]bool {
	b, _ := json.Marshal(configAlias(*TinyConfig()))
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	known := map[string]bool{"id2label": true, "label2id": true, "architectures": true, "torch_dtype": true, "transformers_version": true}
	for k := range m {
		known[k] = true
	}
	return known
}

// LoadConfig reads an HF config.json; keys it lacks take BertConfig's
// defaults. The result is validated.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: config: %w", torchutil.NotFound(err))
	}
	c := DefaultConfig()
	b = bytes.TrimPrefix(b, []byte("\uFEFF")) // a byte order mark from a Windows editor
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("bert: config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}

// Save writes c as an indented config.json, atomically.
func (c *Config) Save(path string) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("bert: config: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return fmt.Errorf("bert: config: %w", err)
	}
	out.WriteByte('\n')
	if err := safetensors.WriteFileAtomic(path, out.Bytes()); err != nil {
		return fmt.Errorf("bert: config: %w", err)
	}
	return nil
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	b, err := json.Marshal(c)
	if err != nil {
		panic("bert: config does not marshal: " + err.Error()) // unreachable: all fields marshal
	}
	d := &Config{}
	if err := json.Unmarshal(b, d); err != nil {
		panic("bert: config does not unmarshal: " + err.Error())
	}
	return d
}

// Validate checks the fields the model uses.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error { return fmt.Errorf("bert: config: "+format, a...) }
	switch {
	case c.VocabSize <= 0:
		return bad("vocab_size %d must be positive", c.VocabSize)
	case c.HiddenSize <= 0:
		return bad("hidden_size %d must be positive", c.HiddenSize)
	case c.NumHiddenLayers < 0:
		return bad("num_hidden_layers %d must not be negative", c.NumHiddenLayers)
	case c.NumAttentionHeads <= 0:
		return bad("num_attention_heads %d must be positive", c.NumAttentionHeads)
	case c.HiddenSize%c.NumAttentionHeads != 0:
		return bad("hidden_size %d not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.IntermediateSize <= 0:
		return bad("intermediate_size %d must be positive", c.IntermediateSize)
	case c.MaxPositionEmbeddings <= 0:
		return bad("max_position_embeddings %d must be positive", c.MaxPositionEmbeddings)
	case c.TypeVocabSize <= 0:
		return bad("type_vocab_size %d must be positive", c.TypeVocabSize)
	case c.LayerNormEps <= 0:
		return bad("layer_norm_eps %g must be positive", c.LayerNormEps)
	case c.InitializerRange < 0:
		return bad("initializer_range %g must not be negative", c.InitializerRange)
	case c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize:
		return bad("pad_token_id %d outside [0, vocab_size %d)", c.PadTokenID, c.VocabSize)
	case c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute":
		return bad("position_embedding_type %q not supported (only \"absolute\")", c.PositionEmbeddingType)
	case c.ModelType != "" && c.ModelType != "bert":
		return bad("model_type %q is not \"bert\"", c.ModelType)
	}
	if _, ok := activations[c.HiddenAct]; !ok {
		return bad("hidden_act %q not supported (gelu, gelu_new, relu)", c.HiddenAct)
	}
	for name, p := range map[string]float64{"hidden_dropout_prob": c.HiddenDropoutProb, "attention_probs_dropout_prob": c.AttentionProbsDropoutProb} {
		if p < 0 || p >= 1 {
			return bad("%s %g outside [0, 1)", name, p)
		}
	}
	if c.ClassifierDropout != nil && (*c.ClassifierDropout < 0 || *c.ClassifierDropout >= 1) {
		return bad("classifier_dropout %g outside [0, 1)", *c.ClassifierDropout)
	}
	if len(c.ID2Label) > 0 {
		if _, err := c.Labels(); err != nil {
			return err
		}
	}
	return nil
}

// Labels returns id2label as a slice indexed by id. The ids must be exactly
// 0..n-1. With no id2label it returns HF's default, LABEL_0 and LABEL_1.
func (c *Config) Labels() ([]string, error) {
	if len(c.ID2Label) == 0 {
		return []string{"LABEL_0", "LABEL_1"}, nil
	}
	out := make([]string, len(c.ID2Label))
	for id, l := range c.ID2Label {
		if id < 0 || id >= len(out) {
			return nil, fmt.Errorf("bert: config: id2label ids must be 0..%d, found %d", len(out)-1, id)
		}
		out[id] = l
	}
	return out, nil
}

// SetLabels sets id2label and label2id from labels (index = id). Labels
// must be distinct and non-empty.
func (c *Config) SetLabels(labels []string) error {
	if len(labels) == 0 {
		return fmt.Errorf("bert: config: no labels")
	}
	id2 := make(map[int]string, len(labels))
	l2 := make(map[string]int, len(labels))
	for i, l := range labels {
		if _, dup := l2[l]; dup {
			return fmt.Errorf("bert: config: label %q appears twice", l)
		}
		id2[i] = l
		l2[l] = i
	}
	c.ID2Label, c.Label2ID = id2, l2
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
