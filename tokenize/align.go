package tokenize

import (
	"fmt"
	"runtime"
	"sync"
)

// IgnoreLabel is the label of sub-tokens the loss ignores (PyTorch's
// CrossEntropyLoss ignore_index, HF's -100).
const IgnoreLabel = -100

// AlignLabels maps word labels to sub-tokens: a token whose word id is -1
// ([CLS], [SEP], [PAD]) gets IgnoreLabel; the first sub-token of word w gets
// wordLabels[w]; a following sub-token of the same word gets IgnoreLabel, or
// wordLabels[w] too when propagate is true. A word id outside wordLabels
// gets IgnoreLabel.
func AlignLabels(wordIDs []int, wordLabels []int, propagate bool) []int {
	out := make([]int, len(wordIDs))
	prev := -1
	for i, w := range wordIDs {
		switch {
		case w < 0 || w >= len(wordLabels):
			out[i] = IgnoreLabel
		case w != prev || propagate:
			out[i] = wordLabels[w]
		default:
			out[i] = IgnoreLabel
		}
		prev = w
	}
	return out
}

// Window is one piece of a long pre-split sentence.
type Window struct {
	Encoding  *Encoding // [CLS] sub-tokens [SEP]; WordIDs index the whole sentence's words
	FirstWord int       // words covered: [FirstWord, EndWord)
	EndWord   int
}

// EncodeWordsWindows encodes a sentence given as words into windows of at
// most maxLen tokens (specials included), so that no sub-token is dropped.
// A window holds whole words; it is cut inside a word only when that word
// alone has more than maxLen-2 sub-tokens. Consecutive windows overlap by at
// most stride sub-tokens: the next window starts at the first word after the
// previous start whose sub-tokens up to the previous window's end number at
// most stride. A sentence that fits gives one window. Words without
// sub-tokens (empty, control-only) belong to the window of their neighbours.
// Reassemble per-word predictions with AssignWords.
func (t *Tokenizer) EncodeWordsWindows(words []string, maxLen, stride int) ([]Window, error) {
	if maxLen < 3 {
		return nil, fmt.Errorf("tokenize: windows: maxLen %d < 3", maxLen)
	}
	if stride < 0 || stride >= maxLen-2 {
		return nil, fmt.Errorf("tokenize: windows: stride %d not in [0, %d)", stride, maxLen-2)
	}
	enc := t.tokenizeWords(words)
	defer t.putEncoder(enc)
	s := enc.seq()
	c := maxLen - 2
	n := len(s.ids)
	// firstTok[w]: index of word w's first sub-token (or of the next word's when it has none).
	firstTok := make([]int, len(words)+1)
	k := 0
	for w := 0; w <= len(words); w++ {
		for k < n && int(s.words[k]) < w {
			k++
		}
		firstTok[w] = k
	}
	var out []Window
	start := 0 // token index
	for {
		end := min(start+c, n)
		if end < n {
			// back off to a word boundary when one is inside the window
			b := end
			for b > start && s.words[b] == s.words[b-1] {
				b--
			}
			if b > start {
				end = b
			}
		}
		sub := seq{ids: s.ids[start:end], rOff: s.rOff[start:end], bOff: s.bOff[start:end], words: s.words[start:end]}
		win := Window{Encoding: t.build(&sub, nil)}
		if start < end {
			win.FirstWord, win.EndWord = int(s.words[start]), int(s.words[end-1])+1
		}
		if end == n {
			if len(out) == 0 {
				win.FirstWord, win.EndWord = 0, len(words)
			} else {
				win.EndWord = len(words)
			}
			out = append(out, win)
			return out, nil
		}
		out = append(out, win)
		// next start: the earliest word boundary after start with at most
		// stride tokens before end; a cut word continues where it stopped.
		next := end
		for w := int(s.words[start]) + 1; w <= int(s.words[end-1]); w++ {
			if ft := firstTok[w]; ft > start && end-ft <= stride {
				next = ft
				break
			}
		}
		start = next
	}
}

// WordSource locates a word's prediction after windowing.
type WordSource struct {
	Window int // index into the windows, -1 when the word has no sub-token
	Token  int // index of the word's first sub-token in that window's Encoding, -1 likewise
}

// AssignWords decides, for each of nWords words, which window's prediction
// to use: among the windows that contain the word's first sub-token, the
// one where that sub-token is farthest from the nearer edge of the window's
// content (distance = min(i-1, len-2-i) for token i of [CLS] ... [SEP]); on a
// tie the earlier window. The rule is deterministic and uses the context on
// both sides of a word as much as the windows allow.
func AssignWords(windows []Window, nWords int) []WordSource {
	out := make([]WordSource, nWords)
	best := make([]int, nWords)
	for i := range out {
		out[i] = WordSource{-1, -1}
		best[i] = -1
	}
	for wi, win := range windows {
		e := win.Encoding
		prev := -1
		for i, w := range e.WordIDs {
			if w < 0 || w >= nWords || w == prev {
				prev = w
				continue
			}
			prev = w
			if i > 1 && e.WordIDs[i-1] == w { // continuation of a cut word
				continue
			}
			d := min(i-1, e.Len()-2-i)
			if d > best[w] {
				best[w], out[w] = d, WordSource{wi, i}
			}
		}
	}
	return out
}

// EncodeBatch encodes texts in parallel with at most workers goroutines
// (workers <= 0: GOMAXPROCS). The result is in input order and equal to
// Encode's; the encodings of each chunk of texts share their backing arrays
// (each slice with its own capacity), so keeping one keeps its chunk.
func (t *Tokenizer) EncodeBatch(texts []string, workers int) []*Encoding {
	out := make([]*Encoding, len(texts))
	parallel(len(texts), workers, func(lo, hi int) {
		e := t.getEncoder(true)
		var ends [batchChunk]int
		total := 0
		for i := lo; i < hi; i++ {
			e.nword = 0
			start := len(e.ids)
			e.text(texts[i])
			ends[i-lo] = len(e.ids)
			n := len(e.ids) - start
			if t.opts.Truncate {
				n = min(n, t.opts.MaxLen-2)
			}
			total += n + 2
		}
		ar := newArena(total, hi-lo)
		prev := 0
		for i := lo; i < hi; i++ {
			end := ends[i-lo]
			s := seq{ids: e.ids[prev:end], rOff: e.rOff[prev:end], bOff: e.bOff[prev:end], words: e.words[prev:end]}
			if t.opts.Truncate && len(s.ids) > t.opts.MaxLen-2 {
				s.truncate(t.opts.MaxLen - 2)
			}
			out[i] = t.buildIn(ar, &s, nil)
			prev = end
		}
		t.putEncoder(e)
	})
	return out
}

// EncodeIDsBatch returns the ids (no special tokens) of each text, computed
// in parallel with at most workers goroutines (workers <= 0: GOMAXPROCS).
// The ids of each chunk of texts share one allocation; each text's slice
// has its own capacity (nil for a text without tokens).
func (t *Tokenizer) EncodeIDsBatch(texts []string, workers int) [][]int32 {
	out := make([][]int32, len(texts))
	parallel(len(texts), workers, func(lo, hi int) {
		e := t.getEncoder(false)
		var ends [batchChunk]int
		for i := lo; i < hi; i++ {
			e.text(texts[i])
			ends[i-lo] = len(e.ids)
		}
		block := clone(e.ids)
		prev := 0
		for i := lo; i < hi; i++ {
			if end := ends[i-lo]; end > prev {
				out[i] = block[prev:end:end]
				prev = end
			}
		}
		t.putEncoder(e)
	})
	return out
}

// batchChunk is the number of texts a worker takes at a time.
const batchChunk = 64

// parallel calls f on consecutive chunks [lo, hi) of at most batchChunk
// indexes below n, from at most workers goroutines (<= 0: GOMAXPROCS).
func parallel(n, workers int, f func(lo, hi int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, (n+batchChunk-1)/batchChunk)
	if workers <= 1 {
		for lo := 0; lo < n; lo += batchChunk {
			f(lo, min(lo+batchChunk, n))
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				f(lo, min(lo+batchChunk, n))
			}
		}()
	}
	for lo := 0; lo < n; lo += batchChunk {
		next <- lo
	}
	close(next)
	wg.Wait()
}
