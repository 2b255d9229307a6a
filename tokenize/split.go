package tokenize

import "unicode/utf8"

// origin is where one normalized byte comes from in the original text: the
// byte span and rune index of the original character.
type origin struct{ bs, be, rs int32 }

// sink receives the words of a text.
type sink interface {
	// word receives one pre-tokenized word: its normalized bytes w (valid
	// UTF-8, not empty), its number of runes, and, when the splitter
	// collects offsets, the origin of each byte of w (else nil).
	word(w []byte, nrunes int, orig []origin)
}

// splitter runs BertNormalizer and BertPreTokenizer over a text in one pass.
// It is reused across calls (not safe for concurrent use).
//
// Runs of ASCII word bytes are copied at once; other code points below
// tableRunes take their class and normalized form from tab (built by
// newNormTable with the same strip and lower); the rest, and every code
// point when tab is nil, go through general, the per-rune definition.
type splitter struct {
	strip, lower, chinese bool
	offsets               bool       // collect orig
	tab                   *normTable // may be nil

	w    []byte
	orig []origin // per byte of w, when offsets
	nr   int      // runes in w
	rs   []rune
	tmp  []byte
}

// ascii appends a run of ASCII word bytes (class clsOther) whose first
// byte is at bs and rune rs of the original text.
func (s *splitter) ascii(seg string, bs, rs int32) {
	n := len(s.w)
	s.w = append(s.w, seg...)
	if s.lower {
		for k := n; k < len(s.w); k++ {
			if c := s.w[k]; c >= 'A' && c <= 'Z' {
				s.w[k] = c + 'a' - 'A'
			}
		}
	}
	s.nr += len(seg)
	if s.offsets {
		for k := range int32(len(seg)) {
			s.orig = append(s.orig, origin{bs + k, bs + k + 1, rs + k})
		}
	}
}

// add appends nr normalized runes b that come from the original character o.
func (s *splitter) add(b []byte, nr int, o origin) {
	s.w = append(s.w, b...)
	s.nr += nr
	if s.offsets {
		for range b {
			s.orig = append(s.orig, o)
		}
	}
}

func (s *splitter) addRune(r rune, o origin) {
	n := len(s.w)
	s.w = utf8.AppendRune(s.w, r)
	s.nr++
	if s.offsets {
		for range len(s.w) - n {
			s.orig = append(s.orig, o)
		}
	}
}

func (s *splitter) flush(k sink) {
	if len(s.w) == 0 {
		return
	}
	var orig []origin
	if s.offsets {
		orig = s.orig
	}
	k.word(s.w, s.nr, orig)
	s.w, s.orig, s.nr = s.w[:0], s.orig[:0], 0
}

// run splits text, whose first byte and rune are at baseByte and baseRune of
// the original string, into words, and returns the rune offset after text.
// Invalid UTF-8 bytes count as one rune each and are deleted like U+FFFD.
func (s *splitter) run(text string, baseByte, baseRune int32, k sink) int32 {
	rpos := baseRune
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if asciiWord[c] {
				j := i + 1
				for j < len(text) && asciiWord[text[j]] {
					j++
				}
				s.ascii(text[i:j], baseByte+int32(i), rpos)
				rpos += int32(j - i)
				i = j
				continue
			}
			o := origin{baseByte + int32(i), baseByte + int32(i) + 1, rpos}
			i++
			rpos++
			switch asciiClass[c] {
			case clsSpace:
				s.flush(k)
			case clsPunct:
				s.flush(k)
				s.add(asciiBytes[c:c+1], 1, o)
				s.flush(k)
			} // clsControl: deleted
			continue
		}
		var r rune
		size := 2
		if c >= 0xC2 && c < 0xE0 && i+1 < len(text) && text[i+1]&0xC0 == 0x80 {
			r = rune(c&0x1F)<<6 | rune(text[i+1]&0x3F)
		} else {
			r, size = utf8.DecodeRuneInString(text[i:]) // an invalid byte is utf8.RuneError, a control
		}
		o := origin{baseByte + int32(i), baseByte + int32(i+size), rpos}
		i += size
		rpos++
		if s.tab != nil && r < tableRunes {
			switch e := s.tab.e[r]; e.kind {
			case kindControl:
				continue
			case kindSpace:
				s.flush(k)
				continue
			case kindWord:
				s.add(s.tab.b[e.off:e.off+uint32(e.n)], int(e.nr), o)
				continue
			case kindPunct:
				s.flush(k)
				s.add(s.tab.b[e.off:e.off+uint32(e.n)], 1, o)
				s.flush(k)
				continue
			}
		}
		s.general(r, o, k)
	}
	s.flush(k)
	return rpos
}

// general handles one non-ASCII character of the original text: the
// definition that newNormTable caches.
func (s *splitter) general(c rune, o origin, k sink) {
	cls := classOfSlow(c)
	switch cls {
	case clsControl:
		return
	case clsSpace:
		s.flush(k)
		return
	}
	cjk := cls == clsCJK && s.chinese
	if cjk {
		s.flush(k)
	}
	s.rs = normalizeRune(s.rs[:0], c, s.strip, s.lower, s.tmp)
	for _, nc := range s.rs {
		if isPunct(nc) {
			s.flush(k)
			s.addRune(nc, o)
			s.flush(k)
			continue
		}
		s.addRune(nc, o)
	}
	if cjk {
		s.flush(k)
	}
}

// Word is one pre-tokenized word of a text.
type Word struct {
	Text               string // the original text of the word, text[ByteStart:ByteEnd]
	Start, End         int    // rune offsets in the original text, End exclusive
	ByteStart, ByteEnd int    // byte offsets in the original text, ByteEnd exclusive
}

type wordCollector struct {
	text  string
	words []Word
}

func (c *wordCollector) word(_ []byte, _ int, orig []origin) {
	f, l := orig[0], orig[len(orig)-1]
	c.words = append(c.words, Word{Text: c.text[f.bs:l.be], Start: int(f.rs), End: int(l.rs) + 1, ByteStart: int(f.bs), ByteEnd: int(l.be)})
}

// SplitWords splits text the way BERT's BasicTokenizer (HF BertNormalizer
// with clean_text and handle_chinese_chars, then BertPreTokenizer)
// pre-tokenizes it, keeping the original case and accents: control
// characters, NUL, U+FFFD and invalid UTF-8 bytes are deleted (a word
// containing one between kept characters keeps it in Text, which is the original slice), whitespace
// (including U+00A0 and U+2028) separates words, each punctuation character
// and each CJK ideograph is a word. Offsets index the original string; invalid
// UTF-8 bytes count as one rune each. Literal special tokens such as "[MASK]"
// are not recognised here (they are three words), and a word made only of
// non-spacing marks is kept (an uncased Tokenizer deletes it).
func SplitWords(text string) []Word {
	s := splitter{chinese: true, offsets: true}
	c := wordCollector{text: text}
	s.run(text, 0, 0, &c)
	return c.words
}
