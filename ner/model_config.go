package ner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// ModelConfigFile is the file of a model directory that records how a
// tagger must read raw text for the model: the word splitter its training
// corpus matches. HF ignores it.
const ModelConfigFile = "ner_config.json"

// ModelConfig is the content of ModelConfigFile.
type ModelConfig struct {
	// WordSplitter cuts raw text into the words the model was trained on.
	WordSplitter tokenize.WordSplitter `json:"word_splitter"`
}

// ReadModelConfig reads dir's ModelConfigFile. A directory without one (a
// model trained before the file existed, or by HF) reads as
// SplitterBERT, the splitting such models were used with.
func ReadModelConfig(dir string) (ModelConfig, error) {
	path := filepath.Join(dir, ModelConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ModelConfig{WordSplitter: tokenize.SplitterBERT}, nil
	}
	if err != nil {
		return ModelConfig{}, fmt.Errorf("ner: read %s: %w", path, err)
	}
	var c ModelConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return ModelConfig{}, fmt.Errorf("ner: read %s: %w", path, err)
	}
	if err := c.WordSplitter.Validate(); err != nil {
		return ModelConfig{}, fmt.Errorf("ner: read %s: word_splitter: %w", path, err)
	}
	return c, nil
}

// WriteModelConfig writes c into dir's ModelConfigFile atomically.
func WriteModelConfig(dir string, c ModelConfig) error {
	if err := c.WordSplitter.Validate(); err != nil {
		return fmt.Errorf("ner: write %s: %w", ModelConfigFile, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("ner: write %s: %w", ModelConfigFile, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, ModelConfigFile), append(b, '\n')); err != nil {
		return fmt.Errorf("ner: write %s: %w", ModelConfigFile, err)
	}
	return nil
}
