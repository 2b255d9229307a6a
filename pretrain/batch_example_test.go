package pretrain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/pretrain"
)

// wordEncoder is a toy whole-word encoder for the example; real code passes
// a *tokenize.Tokenizer.
type wordEncoder struct{ vocab []string }

func (w wordEncoder) CLS() int            { return 1 }
func (w wordEncoder) SEP() int            { return 2 }
func (w wordEncoder) PAD() int            { return 0 }
func (w wordEncoder) MASK() int           { return 3 }
func (w wordEncoder) UNK() int            { return 4 }
func (w wordEncoder) VocabSize() int      { return len(w.vocab) }
func (w wordEncoder) Token(id int) string { return w.vocab[id] }
func (w wordEncoder) EncodeIDs(text string) ([]int32, error) {
	var ids []int32
	for _, f := range strings.Fields(strings.ToLower(text)) {
		id := int32(4)
		for i, v := range w.vocab {
			if v == f {
				id = int32(i)
			}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func Example() {
	dir, _ := os.MkdirTemp("", "pretrain-example")
	defer os.RemoveAll(dir)
	corpus := filepath.Join(dir, "notes.txt")
	os.WriteFile(corpus, []byte("Paciente com dor torácica .\nSem febre .\nPaciente com febre .\n"), 0o644)
	enc := wordEncoder{strings.Fields("[PAD] [CLS] [SEP] [MASK] [UNK] paciente com dor torácica sem febre .")}

	files, err := pretrain.ExpandPaths([]string{filepath.Join(dir, "*.txt")})
	if err != nil {
		fmt.Println(err)
		return
	}
	cache, err := pretrain.BuildCache(context.Background(), files, enc, pretrain.CacheOptions{Dir: filepath.Join(dir, "cache")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cache.Close()
	fmt.Println("cache:", cache.Status(), cache.NumDocuments(), "documents,", cache.NumTokens(), "tokens")

	train, _, err := pretrain.NewDatasets(cache, pretrain.BlockOptions{BlockSize: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < train.Len(); i++ {
		ex, _ := train.Example(i, nil)
		var toks []string
		for _, id := range ex {
			toks = append(toks, enc.Token(int(id)))
		}
		fmt.Println("block", i, toks)
	}

	masker, _ := pretrain.NewMasker(enc, pretrain.DefaultMaskOptions())
	batcher, err := pretrain.NewBatcher(train, masker, pretrain.BatchOptions{BatchSize: 2, GradAccum: 1, Seed: 42})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := batcher.Next()
	fmt.Println("batch", b.Batch, "×", b.SeqLen, "at", b.Position, "next", batcher.Position())
	// Output:
	// cache: built 3 documents, 12 tokens
	// block 0 [[CLS] paciente com dor torácica . [SEP] [CLS]]
	// block 1 [sem febre . [SEP] [CLS] paciente com febre]
	// batch 2 × 8 at epoch 0 batch 0 next epoch 1 batch 0
}
