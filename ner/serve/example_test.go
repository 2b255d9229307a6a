package serve_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"unicode/utf8"

	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/ner/serve"
)

// lexicon tags the words it knows: a stand-in for a *ner.Tagger loaded
// with ner.Load (or serve.LoadModel), so that the example runs without a
// model.
type lexicon map[string]string

func (l lexicon) PredictTexts(_ context.Context, texts []string) ([][]ner.Entity, error) {
	out := make([][]ner.Entity, len(texts))
	for i, text := range texts {
		pos := 0
		for _, w := range strings.SplitAfter(text, " ") {
			word := strings.Trim(w, " .,;")
			if typ, ok := l[word]; ok {
				n := utf8.RuneCountInString(word)
				out[i] = append(out[i], ner.Entity{Type: typ, Text: word, Start: pos, End: pos + n, Score: 1})
			}
			pos += utf8.RuneCountInString(w)
		}
	}
	return out, nil
}

func (l lexicon) CountTokens(text string) int { return len(strings.Fields(text)) }

func (l lexicon) Info() ner.TaggerInfo {
	return ner.TaggerInfo{Labels: []string{"O", "B-C", "I-C"}, Types: []string{"C"}, MaxLen: 256, Splitter: "whitespace"}
}

// Example mounts the service in a Go program's own HTTP server. With a
// fine-tuned model: m, err := serve.LoadModel("clinpt", "out/clinpt/best",
// ner.TaggerOptions{}); defer m.Close().
func Example() {
	o := serve.DefaultOptions()
	o.Models = []serve.Model{{Name: "clinpt", Taggers: []serve.Tagger{lexicon{"febre": "C", "dispneia": "C"}}}}
	srv, err := serve.New(o)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.Handle("/ner/", http.StripPrefix("/ner", srv))
	hs := httptest.NewServer(mux) // 127.0.0.1
	defer hs.Close()

	resp, err := http.Post(hs.URL+"/ner/v1/ner", "application/json",
		strings.NewReader(`{"documents": [{"id": "n1", "text": "Nega febre e dispneia."}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// 200 {"model":"clinpt","documents":[{"index":0,"id":"n1","entities":[{"type":"C","text":"febre","start":5,"end":10,"score":1},{"type":"C","text":"dispneia","start":13,"end":21,"score":1}]}]}
}
