package cli

import (
	"context"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// ResolveModel resolves model, a Hub id or a directory (hub.ResolveContext
// with o), to a model directory, an examples/pretrain output directory to
// its final/ model (FinalDir), and loads the directory's tokenizer.
func ResolveModel(ctx context.Context, model string, o hub.Options) (string, *tokenize.Tokenizer, error) {
	dir, err := hub.ResolveContext(ctx, model, o)
	if err != nil {
		return "", nil, err
	}
	dir = FinalDir(dir)
	tok, err := tokenize.Load(dir)
	if err != nil {
		return "", nil, err
	}
	return dir, tok, nil
}

// FinalDir returns dir/final when dir is an examples/pretrain output
// directory (no config.json of its own, a final/ model inside), else dir.
func FinalDir(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return dir
	}
	if _, err := os.Stat(filepath.Join(dir, "final", "config.json")); err == nil {
		return filepath.Join(dir, "final")
	}
	return dir
}
