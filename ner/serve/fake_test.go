package serve

import (
	"context"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/biobertpt-go/biobertpt/ner"
)

// fakeTagger tags every whitespace-separated word that starts with an
// upper-case letter as an entity of its type. It records the texts of
// each call, can hold calls until released, and panics on a text that
// contains "PANIC".
type fakeTagger struct {
	typ     string
	entered chan struct{} // receives once per call, when gated
	gate    chan struct{} // when non-nil, each call waits for a value or close

	mu    sync.Mutex
	calls [][]string
}

func newFake(typ string) *fakeTagger { return &fakeTagger{typ: typ} }

// gated makes calls wait on gate; entered tells when a call is waiting.
func (f *fakeTagger) gated() *fakeTagger {
	f.gate = make(chan struct{})
	f.entered = make(chan struct{}, 100)
	return f
}

func (f *fakeTagger) PredictTexts(ctx context.Context, texts []string) ([][]ner.Entity, error) {
	f.mu.Lock()
	f.calls = append(f.calls, append([]string(nil), texts...))
	f.mu.Unlock()
	if f.gate != nil {
		f.entered <- struct{}{}
		<-f.gate
	}
	out := make([][]ner.Entity, len(texts))
	for i, t := range texts {
		if strings.Contains(t, "PANIC") {
			panic("fake tagger: " + t)
		}
		out[i] = fakeEntities(t, f.typ)
	}
	return out, nil
}

// fakeEntities is what fakeTagger answers for one text.
func fakeEntities(text, typ string) []ner.Entity {
	var out []ner.Entity
	pos := 0 // in runes
	for _, w := range strings.SplitAfter(text, " ") {
		word := strings.TrimRight(w, " ")
		if r, _ := utf8.DecodeRuneInString(word); unicode.IsUpper(r) {
			n := utf8.RuneCountInString(word)
			out = append(out, ner.Entity{Type: typ, Text: word, Start: pos, End: pos + n, Score: 0.5})
		}
		pos += utf8.RuneCountInString(w)
	}
	return out
}

func (f *fakeTagger) CountTokens(text string) int { return len(strings.Fields(text)) }

func (f *fakeTagger) Info() ner.TaggerInfo {
	return ner.TaggerInfo{
		Labels: []string{"O", "B-" + f.typ, "I-" + f.typ}, Types: []string{f.typ}, Scheme: ner.IOB2,
		MaxLen: 128, Stride: 31, BatchSize: 32, Device: "cpu", Splitter: "bert",
	}
}

// callTexts returns the texts of every call so far.
func (f *fakeTagger) callTexts() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.calls...)
}
