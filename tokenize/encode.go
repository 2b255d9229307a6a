package tokenize

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Encoding is the output of Encode, EncodePair and EncodeWords, aligned
// index by index (one entry per token, special and padding tokens included),
// like HF's BatchEncoding for one text.
type Encoding struct {
	IDs               []int    // input_ids
	TypeIDs           []int    // token_type_ids: 0 for the first text and its [CLS]/[SEP], 1 for the second
	AttentionMask     []int    // 1 for tokens, 0 for padding
	Tokens            []string // vocabulary entries of IDs
	Offsets           [][2]int // rune (code point) offsets [start, end) in the original text; [0,0] for [CLS]/[SEP]/[PAD]
	ByteOffsets       [][2]int // byte offsets [start, end) in the original text; [0,0] for [CLS]/[SEP]/[PAD]
	WordIDs           []int    // index of the word of each token; -1 for [CLS]/[SEP]/[PAD]
	SpecialTokensMask []int    // 1 for the added [CLS]/[SEP]/[PAD]; 0 otherwise (also for a literal "[MASK]" in the text, as HF)
	SequenceIDs       []int    // 0 or 1: which text a token comes from; -1 for added special tokens and padding
}

// Len is the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

// encoder collects the tokens of one sequence. Pooled per Tokenizer.
type encoder struct {
	t      *Tokenizer
	sp     splitter
	pieces []piece

	offsets bool // collect offsets and word ids
	ids     []int32
	rOff    [][2]int32
	bOff    [][2]int32
	words   []int32
	nword   int32
}

func (t *Tokenizer) newEncoder() *encoder {
	return &encoder{t: t, sp: splitter{strip: t.opts.stripAccents(), lower: t.opts.Lowercase, chinese: t.opts.TokenizeChinese}}
}

func (t *Tokenizer) getEncoder(offsets bool) *encoder {
	e := t.pool.Get().(*encoder)
	e.offsets = offsets
	e.ids, e.rOff, e.bOff, e.words, e.nword = e.ids[:0], e.rOff[:0], e.bOff[:0], e.words[:0], 0
	return e
}

func (t *Tokenizer) putEncoder(e *encoder) {
	if cap(e.ids) > 1<<20 { // do not pin huge buffers
		e.ids, e.rOff, e.bOff, e.words = nil, nil, nil, nil
	}
	t.pool.Put(e)
}

// word is the sink method: WordPiece one word and record its tokens.
func (e *encoder) word(w []byte, pos []int32, orig []origin) {
	e.pieces = e.t.voc.wordPiece(e.pieces[:0], w, pos, e.t.unk, e.t.opts.MaxCharsPerWord)
	for _, p := range e.pieces {
		e.ids = append(e.ids, p.id)
		if e.offsets {
			f, l := orig[p.rs], orig[p.re-1]
			e.rOff = append(e.rOff, [2]int32{f.rs, l.rs + 1})
			e.bOff = append(e.bOff, [2]int32{f.bs, l.be})
			e.words = append(e.words, e.nword)
		}
	}
	e.nword++
}

func (e *encoder) special(id int32, bs, be, rs, re int32) {
	e.ids = append(e.ids, id)
	if e.offsets {
		e.rOff = append(e.rOff, [2]int32{rs, re})
		e.bOff = append(e.bOff, [2]int32{bs, be})
		e.words = append(e.words, e.nword)
	}
	e.nword++
}

// matchSpecial returns the index in t.specials of the special token that
// starts text, or -1.
func (t *Tokenizer) matchSpecial(text string) int {
	if !t.specialFirst[text[0]] {
		return -1
	}
	for i, s := range t.specials {
		if strings.HasPrefix(text, s) {
			return i
		}
	}
	return -1
}

// text tokenizes one text: literal special tokens are split out first
// (leftmost-longest, on the raw text, as HF's AddedVocabulary with
// normalized=false), the rest is normalized, pre-tokenized and WordPieced.
func (e *encoder) text(text string) {
	prev, rprev := 0, int32(0)
	for i := 0; i < len(text); i++ {
		if !e.t.specialFirst[text[i]] {
			continue
		}
		k := e.t.matchSpecial(text[i:])
		if k < 0 {
			continue
		}
		r := e.sp.run(text[prev:i], int32(prev), rprev, e)
		n := len(e.t.specials[k])
		e.special(e.t.specialIDs[k], int32(i), int32(i+n), r, r+int32(len([]rune(e.t.specials[k]))))
		rprev = r + int32(len([]rune(e.t.specials[k])))
		i += n - 1
		prev = i + 1
	}
	e.sp.run(text[prev:], int32(prev), rprev, e)
}

// EncodeIDs returns the WordPiece ids of text without special tokens and
// without truncation: the fast path for pretraining corpora. Invalid UTF-8
// bytes are deleted (like U+FFFD, which HF's clean_text deletes). It never
// fails; the error is kept for API stability.
func (t *Tokenizer) EncodeIDs(text string) ([]int32, error) {
	return t.AppendIDs(nil, text), nil
}

// AppendIDs appends the ids of text (no special tokens) to dst.
func (t *Tokenizer) AppendIDs(dst []int32, text string) []int32 {
	e := t.getEncoder(false)
	e.ids = dst
	e.text(text)
	dst = e.ids
	e.ids = nil
	t.putEncoder(e)
	return dst
}

// seq is one tokenized sequence before post-processing.
type seq struct {
	ids   []int32
	rOff  [][2]int32
	bOff  [][2]int32
	words []int32
}

func (s *seq) truncate(n int) {
	s.ids, s.rOff, s.bOff, s.words = s.ids[:n], s.rOff[:n], s.bOff[:n], s.words[:n]
}

func (t *Tokenizer) tokenizeSeq(text string) seq {
	e := t.getEncoder(true)
	e.text(text)
	s := seq{ids: clone(e.ids), rOff: clone(e.rOff), bOff: clone(e.bOff), words: clone(e.words)}
	t.putEncoder(e)
	return s
}

func clone[T any](s []T) []T { return append(make([]T, 0, len(s)), s...) }

// Encode tokenizes text and adds [CLS] and [SEP], like HF's tokenizer(text).
// With Options.Truncate the content is cut to MaxLen-2 tokens.
func (t *Tokenizer) Encode(text string) (*Encoding, error) {
	a := t.tokenizeSeq(text)
	if t.opts.Truncate && len(a.ids) > t.opts.MaxLen-2 {
		a.truncate(t.opts.MaxLen - 2)
	}
	return t.build(&a, nil), nil
}

// EncodePair tokenizes a text pair as [CLS] a [SEP] b [SEP] with type ids 0
// for [CLS] a [SEP] and 1 for b [SEP], like HF's tokenizer(a, b). With
// Options.Truncate the longer sequence loses its last token until the pair
// fits MaxLen (HF longest_first; on a tie the second loses).
func (t *Tokenizer) EncodePair(a, b string) (*Encoding, error) {
	sa, sb := t.tokenizeSeq(a), t.tokenizeSeq(b)
	if t.opts.Truncate {
		truncatePair(&sa, &sb, t.opts.MaxLen-3)
	}
	return t.build(&sa, &sb), nil
}

// truncatePair removes tokens from the end of the longer sequence until
// both fit in n tokens together (HF TruncationStrategy::LongestFirst).
func truncatePair(a, b *seq, n int) {
	if n < 0 {
		n = 0
	}
	la, lb := len(a.ids), len(b.ids)
	for la+lb > n {
		if la > lb {
			la--
		} else {
			lb--
		}
	}
	a.truncate(la)
	b.truncate(lb)
}

// build adds [CLS]/[SEP] around the sequences (BERT's TemplateProcessing).
func (t *Tokenizer) build(a, b *seq) *Encoding {
	n := len(a.ids) + 2
	if b != nil {
		n += len(b.ids) + 1
	}
	e := &Encoding{
		IDs: make([]int, 0, n), TypeIDs: make([]int, 0, n), AttentionMask: make([]int, 0, n),
		Tokens: make([]string, 0, n), Offsets: make([][2]int, 0, n), ByteOffsets: make([][2]int, 0, n),
		WordIDs: make([]int, 0, n), SpecialTokensMask: make([]int, 0, n), SequenceIDs: make([]int, 0, n),
	}
	e.addSpecial(t, t.cls, 0)
	e.addSeq(t, a, 0)
	e.addSpecial(t, t.sep, 0)
	if b != nil {
		e.addSeq(t, b, 1)
		e.addSpecial(t, t.sep, 1)
	}
	return e
}

func (e *Encoding) addSpecial(t *Tokenizer, id int32, typ int) {
	e.IDs = append(e.IDs, int(id))
	e.TypeIDs = append(e.TypeIDs, typ)
	e.AttentionMask = append(e.AttentionMask, 1)
	e.Tokens = append(e.Tokens, t.voc.tokens[id])
	e.Offsets = append(e.Offsets, [2]int{})
	e.ByteOffsets = append(e.ByteOffsets, [2]int{})
	e.WordIDs = append(e.WordIDs, -1)
	e.SpecialTokensMask = append(e.SpecialTokensMask, 1)
	e.SequenceIDs = append(e.SequenceIDs, -1)
}

func (e *Encoding) addSeq(t *Tokenizer, s *seq, typ int) {
	for i, id := range s.ids {
		e.IDs = append(e.IDs, int(id))
		e.TypeIDs = append(e.TypeIDs, typ)
		e.AttentionMask = append(e.AttentionMask, 1)
		e.Tokens = append(e.Tokens, t.voc.tokens[id])
		e.Offsets = append(e.Offsets, [2]int{int(s.rOff[i][0]), int(s.rOff[i][1])})
		e.ByteOffsets = append(e.ByteOffsets, [2]int{int(s.bOff[i][0]), int(s.bOff[i][1])})
		e.WordIDs = append(e.WordIDs, int(s.words[i]))
		e.SpecialTokensMask = append(e.SpecialTokensMask, 0)
		e.SequenceIDs = append(e.SequenceIDs, typ)
	}
}

// EncodeWords encodes a sentence given as words (HF is_split_into_words=True)
// with [CLS] and [SEP]. Each word is tokenized on its own (a word with inner
// spaces or punctuation gives several pre-tokens, all with the word's id; an
// empty or control-only word gives no token). WordIDs index words. As in HF,
// Offsets and ByteOffsets are relative to each word's own string, not to a
// joined sentence. With Options.Truncate the content is cut to MaxLen-2.
func (t *Tokenizer) EncodeWords(words []string) (*Encoding, error) {
	s := t.tokenizeWords(words)
	if t.opts.Truncate && len(s.ids) > t.opts.MaxLen-2 {
		s.truncate(t.opts.MaxLen - 2)
	}
	return t.build(&s, nil), nil
}

func (t *Tokenizer) tokenizeWords(words []string) seq {
	e := t.getEncoder(true)
	for i, w := range words {
		n := len(e.words)
		e.text(w)
		for j := n; j < len(e.words); j++ {
			e.words[j] = int32(i)
		}
	}
	s := seq{ids: clone(e.ids), rOff: clone(e.rOff), bOff: clone(e.bOff), words: clone(e.words)}
	t.putEncoder(e)
	return s
}

// Pad appends [PAD] tokens until the encoding has length tokens (HF
// padding="max_length", right side): id PAD, type id 0, attention 0,
// offsets [0,0], word id -1, special mask 1. A longer encoding is unchanged.
func (e *Encoding) Pad(length, padID int, padToken string) {
	for len(e.IDs) < length {
		e.IDs = append(e.IDs, padID)
		e.TypeIDs = append(e.TypeIDs, 0)
		e.AttentionMask = append(e.AttentionMask, 0)
		e.Tokens = append(e.Tokens, padToken)
		e.Offsets = append(e.Offsets, [2]int{})
		e.ByteOffsets = append(e.ByteOffsets, [2]int{})
		e.WordIDs = append(e.WordIDs, -1)
		e.SpecialTokensMask = append(e.SpecialTokensMask, 1)
		e.SequenceIDs = append(e.SequenceIDs, -1)
	}
}

// PadBatch pads every encoding to the longest one (length 0) or to length
// (HF padding="longest" / "max_length"). It is an error when length is
// positive and an encoding is longer.
func (t *Tokenizer) PadBatch(encs []*Encoding, length int) error {
	target := length
	if length <= 0 {
		for _, e := range encs {
			target = max(target, e.Len())
		}
	}
	for i, e := range encs {
		if e.Len() > target {
			return fmt.Errorf("tokenize: pad batch: encoding %d has %d tokens > length %d", i, e.Len(), target)
		}
		e.Pad(target, int(t.pad), t.voc.tokens[t.pad])
	}
	return nil
}

// ValidateUTF8 returns nil when text is valid UTF-8, else an error giving
// the byte position of the first invalid byte. Encode and friends accept
// invalid UTF-8 (see the package doc); call this to reject it instead.
func ValidateUTF8(text string) error {
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("tokenize: invalid UTF-8 at byte %d (0x%02x)", i, text[i])
		}
		i += n
	}
	return nil
}
