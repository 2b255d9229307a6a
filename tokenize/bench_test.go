package tokenize

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	stk "github.com/sugarme/tokenizer"
)

// benchTexts is the Portuguese clinical part of the fixtures, repeated.
func benchTexts(b *testing.B) ([]string, int, int) {
	data, err := os.ReadFile(filepath.Join("testdata", "gen", "sentences.txt"))
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")[:150]
	var texts []string
	for range 20 {
		texts = append(texts, lines...)
	}
	n, words := 0, 0
	for _, t := range texts {
		n += len(t)
		words += len(strings.Fields(t))
	}
	return texts, n, words
}

func report(b *testing.B, words int) {
	b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
}

// BenchmarkEncode: go test -bench . -run ^$ ./tokenize (MB/s from SetBytes,
// single goroutine unless the name says workers). The numbers measured
// before and after the fast paths are in docs/TOKENIZE.md (Performance).
func BenchmarkEncode(b *testing.B) {
	texts, n, words := benchTexts(b)
	for _, lower := range []bool{false, true} {
		tk := mbert(b, lower)
		b.Run(fmt.Sprintf("ours/EncodeIDs/lower=%v", lower), func(b *testing.B) {
			b.SetBytes(int64(n))
			var buf []int32
			for b.Loop() {
				for _, t := range texts {
					buf = tk.AppendIDs(buf[:0], t)
				}
			}
			report(b, words)
		})
		b.Run(fmt.Sprintf("ours/Encode/lower=%v", lower), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				for _, t := range texts {
					_, _ = tk.Encode(t)
				}
			}
			report(b, words)
		})
	}
	// Batches: workers=1 against workers=GOMAXPROCS shows the scaling
	// (MB/s counts all workers together).
	tk := mbert(b, false)
	b.Run("ours/EncodeIDsBatch/workers=GOMAXPROCS", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			tk.EncodeIDsBatch(texts, 0)
		}
		report(b, words)
	})
	b.Run("ours/EncodeIDsBatch/workers=1", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			tk.EncodeIDsBatch(texts, 1)
		}
		report(b, words)
	})
	b.Run("ours/EncodeBatch/workers=GOMAXPROCS", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			tk.EncodeBatch(texts, 0)
		}
		report(b, words)
	})
	st := sugarmeStock(b, false)
	b.Run("sugarme-stock/Encode/lower=false", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, t := range texts {
				_, _ = st.Encode(stk.NewSingleEncodeInput(stk.NewInputSequence(t)), true)
			}
		}
		report(b, words)
	})
}
