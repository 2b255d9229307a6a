package ner

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// TaggerOptions configures Load. Zero fields take their defaults.
type TaggerOptions struct {
	// Device is "cpu", "cuda" or "cuda:N". Default "cpu".
	Device string
	// BatchSize is the most windows per forward pass. Default 32.
	BatchSize int
	// MaxLen is the longest window in sub-tokens, [CLS] and [SEP] included;
	// longer sentences are windowed. It may not exceed the model's
	// max_position_embeddings. Default 256 (capped at that).
	MaxLen int
	// Stride is the most sub-tokens consecutive windows share. 0 means
	// (MaxLen-2)/4; it must be below MaxLen-2.
	Stride int
	// Splitter cuts raw text into words in Predict. "" means the one the
	// model directory's ModelConfigFile records (tokenize.SplitterBERT
	// when it has none).
	Splitter tokenize.WordSplitter
	// Decode is how word tags are read from the label scores. Default
	// DecodeViterbi (the zero value): the best sequence the labels' scheme
	// allows.
	Decode Decode
}

// DefaultTaggerOptions returns the defaults: CPU, batch 32, windows of 256
// sub-tokens overlapping by up to 63.
func DefaultTaggerOptions() TaggerOptions {
	return TaggerOptions{Device: "cpu", BatchSize: 32, MaxLen: 256}
}

// withDefaults fills zero fields.
func (o TaggerOptions) withDefaults(maxPos int) TaggerOptions {
	if o.Device == "" {
		o.Device = "cpu"
	}
	if o.BatchSize == 0 {
		o.BatchSize = 32
	}
	if o.MaxLen == 0 {
		o.MaxLen = 256
		if maxPos > 0 {
			o.MaxLen = min(o.MaxLen, maxPos)
		}
	}
	if o.Stride == 0 {
		o.Stride = max(0, (o.MaxLen-2)/4)
	}
	return o
}

// Validate reports the first invalid field (after defaults are applied).
func (o TaggerOptions) Validate() error {
	switch {
	case o.BatchSize < 1:
		return fmt.Errorf("ner: tagger options: BatchSize %d: want >= 1", o.BatchSize)
	case o.MaxLen < 3:
		return fmt.Errorf("ner: tagger options: MaxLen %d: want >= 3", o.MaxLen)
	case o.Stride < 0 || o.Stride >= o.MaxLen-2:
		return fmt.Errorf("ner: tagger options: Stride %d: want 0 <= Stride < MaxLen-2 = %d", o.Stride, o.MaxLen-2)
	case !torchutil.ValidDevice(o.Device):
		return fmt.Errorf("ner: tagger options: Device %q: want cpu, cuda or cuda:N", o.Device)
	}
	if o.Splitter != "" {
		if err := o.Splitter.Validate(); err != nil {
			return fmt.Errorf("ner: tagger options: Splitter: %w", err)
		}
	}
	if err := o.Decode.Validate(); err != nil {
		return fmt.Errorf("ner: tagger options: Decode: %w", err)
	}
	return nil
}

// Tagger tags text with a fine-tuned token-classification model. It is safe
// for concurrent use: tokenization and windowing run in the calling
// goroutines; the model runs on one goroutine locked to an OS thread (as
// libtorch's thread-local grad mode requires), which batches the windows of
// all requests waiting at that moment into forward passes of at most
// BatchSize windows. Close it to free the model.
type Tagger struct {
	crf    *crfWeights // the model's CRF; nil without
	tok    *tokenize.Tokenizer
	labels []string
	scheme Scheme
	opts   TaggerOptions

	reqs      chan taggerRequest
	done      chan struct{}
	closeOnce sync.Once
	mu        sync.RWMutex // guards closed against sends on reqs
	closed    bool
}

type taggerRequest struct {
	exs   []example
	reply chan taggerReply
}

type taggerReply struct {
	preds [][]tokenPrediction
	err   error
}

// Load reads a model directory written by Train (or any HF token
// classification directory with id2label and a vocabulary): config.json,
// model.safetensors and the tokenizer files. The model's labels come from
// config.json's id2label; their prefixes decide the scheme entities are
// decoded in (see Predict).
func Load(dir string, o TaggerOptions) (*Tagger, error) {
	tok, err := tokenize.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("ner: load tagger %s: %w", dir, err)
	}
	return loadTagger(dir, tok, o)
}

// loadTagger starts the model goroutine and waits until it has loaded the
// model (or failed).
func loadTagger(dir string, tok *tokenize.Tokenizer, o TaggerOptions) (*Tagger, error) {
	if o.Device == "" {
		o.Device = "cpu"
	}
	if !torchutil.ValidDevice(o.Device) {
		return nil, fmt.Errorf("ner: tagger options: Device %q: want cpu, cuda or cuda:N", o.Device)
	}
	t := &Tagger{tok: tok, reqs: make(chan taggerRequest), done: make(chan struct{})}
	ready := make(chan error, 1)
	go t.serve(dir, o, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return t, nil
}

// serve owns the model: it loads it, answers requests and frees it when
// the tagger is closed. The goroutine stays on one OS thread.
func (t *Tagger) serve(dir string, o TaggerOptions, ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(t.done)
	m, dev, err := t.loadModel(dir, o)
	if err != nil {
		ready <- err
		return
	}
	defer freeModel(m)
	ready <- nil
	for req := range t.reqs {
		// Gather the requests already waiting, up to a few batches' worth,
		// and run them together.
		group := []taggerRequest{req}
		n := len(req.exs)
	gather:
		for n < 4*t.opts.BatchSize {
			select {
			case r, ok := <-t.reqs:
				if !ok {
					break gather
				}
				group = append(group, r)
				n += len(r.exs)
			default:
				break gather
			}
		}
		var all []example
		for _, r := range group {
			all = append(all, r.exs...)
		}
		preds, err := predictExamples(m, all, evalBatches(all, t.opts.BatchSize), t.tok.PAD(), dev)
		k := 0
		for _, r := range group {
			rep := taggerReply{err: err}
			if err == nil {
				rep.preds = preds[k : k+len(r.exs)]
			}
			k += len(r.exs)
			r.reply <- rep
		}
	}
}

func (t *Tagger) loadModel(dir string, o TaggerOptions) (m *bert.ForTokenClassification, dev gotch.Device, err error) {
	defer torchutil.Recover(&err)
	dev, err = torchutil.ParseDevice(o.Device)
	if err != nil {
		return nil, dev, fmt.Errorf("ner: load tagger %s: %w", dir, err)
	}
	m, _, err = bert.LoadForTokenClassification(dir, bert.LoadOptions{Device: dev})
	if err != nil {
		return nil, dev, fmt.Errorf("ner: load tagger %s: %w", dir, err)
	}
	cfg := m.Config()
	labels, err := labelsOfConfig(cfg.ID2Label)
	if err != nil {
		freeModel(m)
		return nil, dev, fmt.Errorf("ner: load tagger %s: %w", dir, err)
	}
	o = o.withDefaults(cfg.MaxPositionEmbeddings)
	if err := o.Validate(); err != nil {
		freeModel(m)
		return nil, dev, err
	}
	if o.Splitter == "" {
		mc, err := ReadModelConfig(dir)
		if err != nil {
			freeModel(m)
			return nil, dev, fmt.Errorf("ner: load tagger %s: %w", dir, err)
		}
		o.Splitter = mc.WordSplitter
	}
	if t.crf, err = loadCRFWeights(dir, len(labels)); err != nil {
		freeModel(m)
		return nil, dev, fmt.Errorf("ner: load tagger %s: %w", dir, err)
	}
	if o.MaxLen > cfg.MaxPositionEmbeddings {
		freeModel(m)
		return nil, dev, fmt.Errorf("ner: tagger options: MaxLen %d > the model's max_position_embeddings %d", o.MaxLen, cfg.MaxPositionEmbeddings)
	}
	if v := t.tok.VocabSize(); v > cfg.VocabSize {
		freeModel(m)
		return nil, dev, fmt.Errorf("ner: load tagger %s: tokenizer has %d tokens but the model's vocab_size is %d", dir, v, cfg.VocabSize)
	}
	t.labels, t.scheme, t.opts = labels, schemeOfLabels(labels), o
	return m, dev, nil
}

// labelsOfConfig orders id2label by id; ids must be 0..n-1.
func labelsOfConfig(id2label map[int]string) ([]string, error) {
	if len(id2label) == 0 {
		return nil, errors.New("config.json has no id2label")
	}
	ids := make([]int, 0, len(id2label))
	for id := range id2label {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out := make([]string, len(ids))
	for i, id := range ids {
		if id != i {
			return nil, fmt.Errorf("config.json id2label: ids are not 0..%d (missing %d)", len(ids)-1, i)
		}
		out[i] = id2label[id]
	}
	if _, err := newLabelSet(out); err != nil {
		return nil, fmt.Errorf("config.json id2label: %w", err)
	}
	if err := checkModelLabels(out); err != nil {
		return nil, fmt.Errorf("config.json %w", err)
	}
	return out, nil
}

// Labels returns the model's labels in id order.
func (t *Tagger) Labels() []string { return append([]string(nil), t.labels...) }

// Scheme returns the scheme the model's labels are written in.
func (t *Tagger) Scheme() Scheme { return t.scheme }

// Close stops the model goroutine and frees the model. Calls after the
// first do nothing; predictions after Close fail.
func (t *Tagger) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		close(t.reqs)
		t.mu.Unlock()
		<-t.done
	})
	return nil
}

// run sends examples to the model goroutine and waits for the answer.
func (t *Tagger) run(exs []example) ([][]tokenPrediction, error) {
	if len(exs) == 0 {
		return nil, nil
	}
	reply := make(chan taggerReply, 1)
	t.mu.RLock()
	if t.closed {
		t.mu.RUnlock()
		return nil, errors.New("ner: tagger is closed")
	}
	t.reqs <- taggerRequest{exs: exs, reply: reply}
	t.mu.RUnlock()
	r := <-reply
	return r.preds, r.err
}

// predict tags pre-split sentences: one tag and one probability per word.
func (t *Tagger) predict(sentences [][]string) ([][]string, [][]float64, error) {
	exs, sws, err := buildExamples(t.tok, sentences, nil, t.opts.MaxLen, t.opts.Stride, false)
	if err != nil {
		return nil, nil, fmt.Errorf("ner: predict: %w", err)
	}
	preds, err := t.run(exs)
	if err != nil {
		return nil, nil, err
	}
	tags, probs := sentenceTags(sws, exs, preds, t.labels, t.opts.Decode, t.crf)
	return tags, probs, nil
}

// PredictWords tags one pre-split sentence: one tag per word, in the
// model's scheme. A sentence longer than MaxLen sub-tokens is windowed and
// each word is tagged from the window where it has the most context
// (tokenize.AssignWords). A word without sub-tokens (e.g. only control
// characters) is tagged "O".
func (t *Tagger) PredictWords(words []string) ([]string, error) {
	tags, _, err := t.predict([][]string{words})
	if err != nil {
		return nil, err
	}
	return tags[0], nil
}

// PredictSentences tags many pre-split sentences, batched (see
// PredictWords).
func (t *Tagger) PredictSentences(sentences [][]string) ([][]string, error) {
	tags, _, err := t.predict(sentences)
	return tags, err
}

// Splitter returns the word splitter Predict uses.
func (t *Tagger) Splitter() tokenize.WordSplitter { return t.opts.Splitter }

// Words splits text into sentences of words as Predict does (sentences
// without words are left out), for PredictSentences.
func (t *Tagger) Words(text string) [][]string {
	sents := splitText(text, t.opts.Splitter)
	out := make([][]string, len(sents))
	for i, s := range sents {
		out[i] = s.wordTexts()
	}
	return out
}

// Predict finds the entities of a raw text. The text is split into
// sentences (tokenize.SplitSentences) and words (TaggerOptions.Splitter,
// by default the splitter the model was trained for), the words are
// tagged in batches, and entities are read from the tags the way conlleval
// reads them (a B- word, or an I- word after O or after another type,
// starts an entity; for IOBES models E- and S- end one). Start and End are
// rune offsets into text (End exclusive) and Text is the original text
// between them; Score is the mean probability of the entity's word tags.
func (t *Tagger) Predict(text string) ([]Entity, error) {
	sents := splitText(text, t.opts.Splitter)
	words := make([][]string, len(sents))
	for i, s := range sents {
		words[i] = s.wordTexts()
	}
	tags, probs, err := t.predict(words)
	if err != nil {
		return nil, err
	}
	var out []Entity
	for i, s := range sents {
		out = append(out, decodeEntities(text, s.words, tags[i], probs[i])...)
	}
	return out, nil
}

// Evaluate tags every sentence of c and scores the tags against c's (read
// in c.Scheme) with metrics.Evaluate in Conlleval mode (see Evaluation).
// Sentences without words are skipped.
func (t *Tagger) Evaluate(c *Corpus) (*Evaluation, error) {
	if c == nil {
		return nil, errors.New("ner: evaluate: nil corpus")
	}
	words, gold, err := flatten(c, c.Scheme)
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate: %w", err)
	}
	pred, _, err := t.predict(words)
	if err != nil {
		return nil, err
	}
	return newEvaluation(words, gold, c.Scheme, pred, t.scheme)
}
