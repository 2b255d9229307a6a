package cli

import (
	"context"

	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// ResolveModel resolves model (a model directory, a training run's output
// directory or a Hub id: hub.Resolve with o) to a model directory and loads
// its tokenizer.
func ResolveModel(ctx context.Context, model string, o hub.Options) (string, *tokenize.Tokenizer, error) {
	dir, err := hub.Resolve(ctx, model, o)
	if err != nil {
		return "", nil, err
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		return "", nil, err
	}
	return dir, tok, nil
}
