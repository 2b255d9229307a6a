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
	return &encoder{t: t, sp: splitter{strip: t.opts.stripAccents(), lower: t.opts.Lowercase, chinese: t.opts.TokenizeChinese, tab: t.tab}}
}

func (t *Tokenizer) getEncoder(offsets bool) *encoder {
	e := t.pool.Get().(*encoder)
	e.offsets, e.sp.offsets = offsets, offsets
	e.ids, e.rOff, e.bOff, e.words, e.nword = e.ids[:0], e.rOff[:0], e.bOff[:0], e.words[:0], 0
	return e
}

func (t *Tokenizer) putEncoder(e *encoder) {
	if cap(e.ids) > 1<<20 { // do not pin huge buffers
		e.ids, e.rOff, e.bOff, e.words = nil, nil, nil, nil
	}
	if cap(e.sp.w) > 1<<16 {
		e.sp.w, e.sp.orig = nil, nil
	}
	t.pool.Put(e)
}

// word is the sink method: WordPiece one word and record its tokens.
func (e *encoder) word(w []byte, nr int, orig []origin) {
	e.pieces = e.t.voc.wordPiece(e.pieces[:0], w, nr, e.t.unk, e.t.opts.MaxCharsPerWord)
	if !e.offsets {
		for _, p := range e.pieces {
			e.ids = append(e.ids, p.id)
		}
		e.nword++
		return
	}
	for _, p := range e.pieces {
		e.ids = append(e.ids, p.id)
		f, l := orig[p.bs], orig[p.be-1]
		e.rOff = append(e.rOff, [2]int32{f.rs, l.rs + 1})
		e.bOff = append(e.bOff, [2]int32{f.bs, l.be})
		e.words = append(e.words, e.nword)
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

// nextSpecial returns the index of the first byte at or after i that can
// start a special token, or len(text).
func (t *Tokenizer) nextSpecial(text string, i int) int {
	if t.specialByte >= 0 {
		if k := strings.IndexByte(text[i:], byte(t.specialByte)); k >= 0 {
			return i + k
		}
		return len(text)
	}
	for ; i < len(text); i++ {
		if t.specialFirst[text[i]] {
			return i
		}
	}
	return len(text)
}

// text tokenizes one text: literal special tokens are split out first
// (leftmost-longest, on the raw text, as HF's AddedVocabulary with
// normalized=false), the rest is normalized, pre-tokenized and WordPieced.
func (e *encoder) text(text string) {
	prev, rprev := 0, int32(0)
	for i := e.t.nextSpecial(text, 0); i < len(text); i = e.t.nextSpecial(text, i) {
		k := e.t.matchSpecial(text[i:])
		if k < 0 {
			i++
			continue
		}
		r := e.sp.run(text[prev:i], int32(prev), rprev, e)
		n := len(e.t.specials[k])
		rn := int32(utf8.RuneCountInString(e.t.specials[k]))
		e.special(e.t.specialIDs[k], int32(i), int32(i+n), r, r+rn)
		rprev = r + rn
		i += n
		prev = i
	}
	e.sp.run(text[prev:], int32(prev), rprev, e)
}

// EncodeIDs returns the WordPiece ids of text without special tokens and
// without truncation: the fast path for pretraining corpora. Invalid UTF-8
// bytes are deleted (like U+FFFD, which HF's clean_text deletes). It never
// fails; the error is kept for API stability.
func (t *Tokenizer) EncodeIDs(text string) ([]int32, error) {
	e := t.getEncoder(false)
	e.text(text)
	var ids []int32
	if len(e.ids) > 0 {
		ids = clone(e.ids)
	}
	t.putEncoder(e)
	return ids, nil
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

// seq returns the encoder's tokens; valid until the encoder is put back.
func (e *encoder) seq() seq { return seq{ids: e.ids, rOff: e.rOff, bOff: e.bOff, words: e.words} }

func clone[T any](s []T) []T { return append(make([]T, 0, len(s)), s...) }

// Encode tokenizes text and adds [CLS] and [SEP], like HF's tokenizer(text).
// With Options.Truncate the content is cut to MaxLen-2 tokens.
func (t *Tokenizer) Encode(text string) (*Encoding, error) {
	e := t.getEncoder(true)
	e.text(text)
	a := e.seq()
	if t.opts.Truncate && len(a.ids) > t.opts.MaxLen-2 {
		a.truncate(t.opts.MaxLen - 2)
	}
	enc := t.build(&a, nil)
	t.putEncoder(e)
	return enc, nil
}

// EncodePair tokenizes a text pair as [CLS] a [SEP] b [SEP] with type ids 0
// for [CLS] a [SEP] and 1 for b [SEP], like HF's tokenizer(a, b). With
// Options.Truncate the longer sequence loses its last token until the pair
// fits MaxLen (HF longest_first; on a tie the second loses).
func (t *Tokenizer) EncodePair(a, b string) (*Encoding, error) {
	ea, eb := t.getEncoder(true), t.getEncoder(true)
	ea.text(a)
	eb.text(b)
	sa, sb := ea.seq(), eb.seq()
	if t.opts.Truncate {
		truncatePair(&sa, &sb, t.opts.MaxLen-3)
	}
	enc := t.build(&sa, &sb)
	t.putEncoder(ea)
	t.putEncoder(eb)
	return enc, nil
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
// The int fields share one allocation and the offsets another; each slice
// has its own capacity, so appending to one (Pad) never touches another.
func (t *Tokenizer) build(a, b *seq) *Encoding {
	n := len(a.ids) + 2
	if b != nil {
		n += len(b.ids) + 1
	}
	return t.buildIn(newArena(n, 1), a, b)
}

// arena holds the backing arrays of Encodings built together.
type arena struct {
	ints []int
	offs [][2]int
	toks []string
	encs []Encoding
}

// newArena makes room for encodings with tokens tokens in all.
func newArena(tokens, encodings int) *arena {
	return &arena{ints: make([]int, 6*tokens), offs: make([][2]int, 2*tokens), toks: make([]string, tokens), encs: make([]Encoding, encodings)}
}

func (t *Tokenizer) buildIn(ar *arena, a, b *seq) *Encoding {
	n := len(a.ids) + 2
	if b != nil {
		n += len(b.ids) + 1
	}
	ints, offs := ar.ints[:6*n], ar.offs[:2*n]
	ar.ints, ar.offs = ar.ints[6*n:], ar.offs[2*n:]
	part := func(k int) []int { return ints[k*n : (k+1)*n : (k+1)*n] }
	e := &ar.encs[0]
	ar.encs = ar.encs[1:]
	*e = Encoding{
		IDs: part(0), TypeIDs: part(1), AttentionMask: part(2), WordIDs: part(3), SpecialTokensMask: part(4), SequenceIDs: part(5),
		Offsets: offs[:n:n], ByteOffsets: offs[n : 2*n : 2*n], Tokens: ar.toks[:n:n],
	}
	ar.toks = ar.toks[n:]
	i := e.setSpecial(t, 0, t.cls, 0)
	i = e.setSeq(t, i, a, 0)
	i = e.setSpecial(t, i, t.sep, 0)
	if b != nil {
		i = e.setSeq(t, i, b, 1)
		e.setSpecial(t, i, t.sep, 1)
	}
	return e
}

// setSpecial writes an added special token at index i (offsets stay [0,0]).
func (e *Encoding) setSpecial(t *Tokenizer, i int, id int32, typ int) int {
	e.IDs[i] = int(id)
	e.TypeIDs[i] = typ
	e.AttentionMask[i] = 1
	e.Tokens[i] = t.voc.token(id)
	e.WordIDs[i] = -1
	e.SpecialTokensMask[i] = 1
	e.SequenceIDs[i] = -1
	return i + 1
}

// setSeq writes the tokens of s from index i and returns the next index.
func (e *Encoding) setSeq(t *Tokenizer, i int, s *seq, typ int) int {
	ids, types, att, toks := e.IDs[i:i+len(s.ids)], e.TypeIDs[i:i+len(s.ids)], e.AttentionMask[i:i+len(s.ids)], e.Tokens[i:i+len(s.ids)]
	offs, boffs, words, seqs := e.Offsets[i:i+len(s.ids)], e.ByteOffsets[i:i+len(s.ids)], e.WordIDs[i:i+len(s.ids)], e.SequenceIDs[i:i+len(s.ids)]
	rOff, bOff, sw := s.rOff[:len(s.ids)], s.bOff[:len(s.ids)], s.words[:len(s.ids)]
	for k, id := range s.ids {
		ids[k] = int(id)
		types[k] = typ
		att[k] = 1
		toks[k] = t.voc.token(id)
		offs[k] = [2]int{int(rOff[k][0]), int(rOff[k][1])}
		boffs[k] = [2]int{int(bOff[k][0]), int(bOff[k][1])}
		words[k] = int(sw[k])
		seqs[k] = typ
	}
	return i + len(s.ids)
}

// EncodeWords encodes a sentence given as words (HF is_split_into_words=True)
// with [CLS] and [SEP]. Each word is tokenized on its own (a word with inner
// spaces or punctuation gives several pre-tokens, all with the word's id; an
// empty or control-only word gives no token). WordIDs index words. As in HF,
// Offsets and ByteOffsets are relative to each word's own string, not to a
// joined sentence. With Options.Truncate the content is cut to MaxLen-2.
func (t *Tokenizer) EncodeWords(words []string) (*Encoding, error) {
	e := t.tokenizeWords(words)
	s := e.seq()
	if t.opts.Truncate && len(s.ids) > t.opts.MaxLen-2 {
		s.truncate(t.opts.MaxLen - 2)
	}
	enc := t.build(&s, nil)
	t.putEncoder(e)
	return enc, nil
}

// tokenizeWords tokenizes each word into a pooled encoder, which the
// caller puts back; word ids index words.
func (t *Tokenizer) tokenizeWords(words []string) *encoder {
	e := t.getEncoder(true)
	for i, w := range words {
		n := len(e.words)
		e.text(w)
		for j := n; j < len(e.words); j++ {
			e.words[j] = int32(i)
		}
	}
	return e
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
		e.Pad(target, int(t.pad), t.voc.token(t.pad))
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
