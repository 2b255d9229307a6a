package tokenize

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
)

// Options configures a Tokenizer. Start from DefaultOptions().
type Options struct {
	// Lowercase lowercases the text (HF do_lower_case). Default false:
	// mBERT cased and BioBERTpt are cased models.
	Lowercase bool
	// StripAccents deletes non-spacing marks after NFD (HF strip_accents).
	// nil (default) follows Lowercase, as HF's strip_accents=None does.
	StripAccents *bool
	// TokenizeChinese makes each CJK ideograph a word (HF
	// tokenize_chinese_chars). Default true.
	TokenizeChinese bool
	// MaxLen is the model's maximum sequence length including special tokens
	// (HF model_max_length). Default 512.
	MaxLen int
	// Truncate cuts Encode and EncodePair outputs to MaxLen tokens (HF
	// truncation=True, longest_first for pairs). Default false, as
	// HF's tokenizer(text): the caller gets every token.
	Truncate bool
	// MaxCharsPerWord: a word with more runes (after normalization) is one
	// [UNK] (HF max_input_chars_per_word). Default 100.
	MaxCharsPerWord int
	// Special tokens. Defaults "[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]".
	// All five must be in the vocabulary; they are recognised literally in
	// the text (case-sensitive, before normalization), as HF does.
	UnkToken, ClsToken, SepToken, PadToken, MaskToken string
}

// DefaultOptions returns the options of mBERT cased / BioBERTpt.
func DefaultOptions() Options {
	return Options{TokenizeChinese: true, MaxLen: 512, MaxCharsPerWord: 100,
		UnkToken: "[UNK]", ClsToken: "[CLS]", SepToken: "[SEP]", PadToken: "[PAD]", MaskToken: "[MASK]"}
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	switch {
	case o.MaxLen < 2:
		return fmt.Errorf("tokenize: options: MaxLen %d < 2 (room for [CLS] and [SEP])", o.MaxLen)
	case o.MaxCharsPerWord < 1:
		return fmt.Errorf("tokenize: options: MaxCharsPerWord %d < 1", o.MaxCharsPerWord)
	}
	for _, f := range []struct{ name, v string }{{"UnkToken", o.UnkToken}, {"ClsToken", o.ClsToken}, {"SepToken", o.SepToken}, {"PadToken", o.PadToken}, {"MaskToken", o.MaskToken}} {
		if f.v == "" {
			return fmt.Errorf("tokenize: options: %s is empty", f.name)
		}
	}
	return nil
}

// stripAccents resolves HF's strip_accents=None rule.
func (o Options) stripAccents() bool {
	if o.StripAccents != nil {
		return *o.StripAccents
	}
	return o.Lowercase
}

// Tokenizer is a BERT WordPiece tokenizer identical to HF's
// BertTokenizerFast. It is safe for concurrent use.
type Tokenizer struct {
	opts                     Options
	voc                      *vocab
	unk, cls, sep, pad, mask int32
	specials                 []string // matched literally in text, longest first
	specialIDs               []int32
	specialFirst             [256]bool
	specialByte              int        // the first byte of every special token, or -1 when they differ
	tab                      *normTable // Latin etc. normalization for this mode
	pool                     sync.Pool  // *encoder
}

// New returns a tokenizer over tokens (id = index). source names the
// vocabulary in error messages.
func New(tokens []string, o Options, source string) (*Tokenizer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("tokenize: vocab %s: empty", source)
	}
	size := 0
	for _, tok := range tokens {
		size += len(tok)
	}
	if len(tokens) > math.MaxInt32 || uint64(size) > math.MaxUint32 {
		return nil, fmt.Errorf("tokenize: vocab %s: %d tokens of %d bytes: too large", source, len(tokens), size)
	}
	t := &Tokenizer{opts: o, voc: newVocab(tokens)}
	for _, sp := range []struct {
		name string
		dst  *int32
	}{{o.UnkToken, &t.unk}, {o.ClsToken, &t.cls}, {o.SepToken, &t.sep}, {o.PadToken, &t.pad}, {o.MaskToken, &t.mask}} {
		id, ok := t.voc.id(sp.name)
		if !ok {
			return nil, fmt.Errorf("tokenize: vocab %s: special token %q missing%s", source, sp.name, missingHint(tokens, sp.name))
		}
		*sp.dst = id
		dup := false
		for _, s := range t.specials {
			dup = dup || s == sp.name
		}
		if !dup {
			t.specials = append(t.specials, sp.name)
			t.specialIDs = append(t.specialIDs, id)
			t.specialFirst[sp.name[0]] = true
		}
	}
	// Longest first, so that at one position the longest special wins
	// (HF's leftmost-longest match).
	for i := 1; i < len(t.specials); i++ {
		for j := i; j > 0 && len(t.specials[j]) > len(t.specials[j-1]); j-- {
			t.specials[j], t.specials[j-1] = t.specials[j-1], t.specials[j]
			t.specialIDs[j], t.specialIDs[j-1] = t.specialIDs[j-1], t.specialIDs[j]
		}
	}
	t.specialByte = int(t.specials[0][0])
	for _, s := range t.specials {
		if int(s[0]) != t.specialByte {
			t.specialByte = -1
		}
	}
	t.tab = newNormTable(o.stripAccents(), o.Lowercase)
	t.pool.New = func() any { return t.newEncoder() }
	return t, nil
}

// ReadVocab reads a vocab.txt: one token a line, id = line number (from 0).
// Lines end as in Python's text mode, which transformers' load_vocab reads
// them in: "\n", "\r\n" or a lone "\r" (a vocabulary saved on Windows
// reads as on Linux); only the line end is removed, the rest of the line
// (spaces included) is the token. A UTF-8 byte order mark before the first
// token is dropped.
func ReadVocab(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenize: read vocab: %w", err)
	}
	data = normalizeVocabText(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("tokenize: vocab %s: empty", path)
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	tokens := strings.Split(string(data), "\n")
	return tokens, nil
}

// LoadVocabFile reads a vocab.txt and returns a tokenizer with options o.
// A vocabulary without one of o's special tokens is an error naming the
// file and the token.
func LoadVocabFile(path string, o Options) (*Tokenizer, error) {
	tokens, err := ReadVocab(path)
	if err != nil {
		return nil, err
	}
	return New(tokens, o, path)
}

// VocabSize is the number of ids (lines of vocab.txt).
func (t *Tokenizer) VocabSize() int { return t.voc.size() }

// TokenID returns the id of a vocabulary entry ("##" pieces included).
func (t *Tokenizer) TokenID(tok string) (int, bool) {
	id, ok := t.voc.id(tok)
	return int(id), ok
}

// Token returns the vocabulary entry of id, or "" when id is out of range.
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= t.voc.size() {
		return ""
	}
	return t.voc.token(int32(id))
}

// Tokens returns a copy of the vocabulary in id order.
func (t *Tokenizer) Tokens() []string {
	out := make([]string, t.voc.size())
	for i := range out {
		out[i] = t.voc.token(int32(i))
	}
	return out
}

// CLS returns the id of the [CLS] token.
func (t *Tokenizer) CLS() int { return int(t.cls) }

// SEP returns the id of the [SEP] token.
func (t *Tokenizer) SEP() int { return int(t.sep) }

// PAD returns the id of the [PAD] token.
func (t *Tokenizer) PAD() int { return int(t.pad) }

// MASK returns the id of the [MASK] token.
func (t *Tokenizer) MASK() int { return int(t.mask) }

// UNK returns the id of the [UNK] token.
func (t *Tokenizer) UNK() int { return int(t.unk) }

// Options returns the tokenizer's options.
func (t *Tokenizer) Options() Options { return t.opts }

// IsSpecial reports whether id is one of the five special tokens.
func (t *Tokenizer) IsSpecial(id int) bool {
	for _, s := range t.specialIDs {
		if int(s) == id {
			return true
		}
	}
	return false
}

var errNoVocab = errors.New("no vocab.txt or tokenizer.json")

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
