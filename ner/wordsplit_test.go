package ner

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

// detokenize joins corpus words into running text: ", . ; : ! ? ) ] } %"
// attach to the word before, "( [ {" to the word after, a straight double
// quote alternately opens and closes; every other pair is separated by a
// space. It returns the text and each word's byte span in it.
func detokenize(words []string) (string, [][2]int) {
	var b strings.Builder
	spans := make([][2]int, len(words))
	attachNext, quoteOpen := true, false
	for i, w := range words {
		left := attachNext
		attachNext = false
		switch w {
		case ",", ".", ";", ":", "!", "?", ")", "]", "}", "%":
			left = true
		case "(", "[", "{":
			attachNext = true
		case `"`:
			if quoteOpen {
				left = true
			} else {
				attachNext = true
			}
			quoteOpen = !quoteOpen
		}
		if !left {
			b.WriteByte(' ')
		}
		spans[i] = [2]int{b.Len(), b.Len() + len(w)}
		b.WriteString(w)
	}
	return b.String(), spans
}

func TestDetokenize(t *testing.T) {
	text, spans := detokenize([]string{"TA", "(", "124/73mmHg", ")", ",", "SpO2", "99", "%", "e", `"`, "x", `"`, "."})
	assert.Equal(t, `TA (124/73mmHg), SpO2 99% e "x".`, text)
	for i, w := range []string{"TA", "(", "124/73mmHg"} {
		assert.Equal(t, w, text[spans[i][0]:spans[i][1]])
	}
}

// splitAgreement is what measureSplitter found for one splitter.
type splitAgreement struct {
	tokens, exact int
	misses        map[string][]string // rule -> "corpus token -> split words"
}

// missRule names the splitting rule a corpus token depends on.
func missRule(w string) string {
	r, _ := utf8.DecodeRuneInString(w)
	switch {
	case utf8.RuneCountInString(w) == 1 && !unicode.IsLetter(r) && !unicode.IsDigit(r):
		return "punctuation split off"
	case strings.ContainsAny(w, "\u0080\u0096\u200b"):
		return "control character inside a word"
	case strings.ContainsAny(w, ",.:") && strings.ContainsAny(w, "0123456789"):
		return "decimal number or time"
	case strings.Contains(w, "/"):
		return "ratio, date, unit or slash compound"
	case strings.Contains(w, "-"):
		return "hyphenated compound"
	case strings.ContainsAny(w, ".'"):
		return "abbreviation or apostrophe"
	}
	return "plain word"
}

// measureSplitter detokenizes each sentence of c, splits the text again with
// s and counts the corpus words reproduced exactly (same byte span).
func measureSplitter(c *Corpus, s tokenize.WordSplitter) splitAgreement {
	a := splitAgreement{misses: map[string][]string{}}
	for _, d := range c.Documents {
		for _, sent := range d.Sentences {
			text, spans := detokenize(sent.Words)
			got := map[[2]int]bool{}
			ws := s.Split(text)
			for _, w := range ws {
				got[[2]int{w.ByteStart, w.ByteEnd}] = true
			}
			for i, w := range sent.Words {
				a.tokens++
				if got[spans[i]] {
					a.exact++
					continue
				}
				var pieces []string
				for _, x := range ws {
					if x.ByteEnd > spans[i][0] && x.ByteStart < spans[i][1] {
						pieces = append(pieces, fmt.Sprintf("%q", x.Text))
					}
				}
				rule := missRule(w)
				a.misses[rule] = append(a.misses[rule], fmt.Sprintf("%q -> %s", w, strings.Join(pieces, " ")))
			}
		}
	}
	return a
}

// TestCLINptSplitterAgreement measures, on the CLINpt samples, the share of
// corpus tokens each word splitter reproduces from running text, and logs
// the misses rule by rule (go test ./ner -run TestCLINptSplitterAgreement -v).
func TestCLINptSplitterAgreement(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "clinpt-sample")
	if _, err := os.Stat(filepath.Join(dir, "CC6.xlsx")); err != nil {
		t.Skip("CLINpt samples not present:", err)
	}
	c, err := ReadCLINpt(dir, CLINptOptions{})
	require.NoError(t, err)
	share := map[tokenize.WordSplitter]float64{}
	for _, s := range tokenize.WordSplitters() {
		a := measureSplitter(c, s)
		share[s] = float64(a.exact) / float64(a.tokens)
		t.Logf("%-10s %d/%d tokens reproduced (%.2f%%)", s, a.exact, a.tokens, 100*share[s])
		rules := make([]string, 0, len(a.misses))
		for r := range a.misses {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		for _, r := range rules {
			ex := a.misses[r]
			t.Logf("  %-38s %3d missed, e.g. %s", r, len(ex), strings.Join(ex[:min(3, len(ex))], "; "))
		}
	}
	assert.GreaterOrEqual(t, share[tokenize.SplitterClinical], 0.99)
	assert.Greater(t, share[tokenize.SplitterClinical], share[tokenize.SplitterBERT])
	assert.Greater(t, share[tokenize.SplitterBERT], share[tokenize.SplitterWhitespace])
}

func TestCorpusSplitter(t *testing.T) {
	given := &Corpus{Documents: []Document{{Sentences: []Sentence{{Words: []string{"10,2"}, Tags: []string{"O"}}}}}}
	standoff := &Corpus{Documents: []Document{{Sentences: []Sentence{{Words: []string{"10"}, Tags: []string{"O"}, Starts: []int{0}, Ends: []int{2}}}}}}
	assert.Equal(t, tokenize.SplitterClinical, corpusSplitter(given, ""))
	assert.Equal(t, tokenize.SplitterBERT, corpusSplitter(standoff, ""))
	assert.Equal(t, tokenize.SplitterWhitespace, corpusSplitter(standoff, tokenize.SplitterWhitespace))
	assert.Equal(t, tokenize.SplitterClinical, corpusSplitter(nil, ""))
}
