package tokenize

import "unicode/utf8"

// origin is where one normalized rune comes from in the original text: the
// byte span and rune index of the original character.
type origin struct{ bs, be, rs int32 }

// sink receives the words of a text.
type sink interface {
	// word receives one pre-tokenized word: its normalized bytes w, the byte
	// offset of each of its runes plus len(w) in pos, and the origin of each rune.
	word(w []byte, pos []int32, orig []origin)
}

// splitter runs BertNormalizer and BertPreTokenizer over a text in one pass.
// It is reused across calls (not safe for concurrent use).
type splitter struct {
	strip, lower, chinese bool

	w    []byte
	pos  []int32
	orig []origin
	nr   []rune
	tmp  []byte
}

func (s *splitter) add(r rune, o origin) {
	s.pos = append(s.pos, int32(len(s.w)))
	s.orig = append(s.orig, o)
	if r < utf8.RuneSelf {
		s.w = append(s.w, byte(r))
	} else {
		s.w = utf8.AppendRune(s.w, r)
	}
}

func (s *splitter) flush(k sink) {
	if len(s.pos) == 0 {
		return
	}
	s.pos = append(s.pos, int32(len(s.w)))
	k.word(s.w, s.pos, s.orig)
	s.w, s.pos, s.orig = s.w[:0], s.pos[:0], s.orig[:0]
}

// run splits text, whose first byte and rune are at baseByte and baseRune of
// the original string, into words, and returns the rune offset after text.
// Invalid UTF-8 bytes count as one rune each and are deleted like U+FFFD.
func (s *splitter) run(text string, baseByte, baseRune int32, k sink) int32 {
	rpos := baseRune
	for i := 0; i < len(text); {
		c, size := rune(text[i]), 1
		var cls uint8
		if c < utf8.RuneSelf {
			cls = asciiClass[c]
		} else {
			c, size = utf8.DecodeRuneInString(text[i:])
			cls = classOfSlow(c) // utf8.RuneError (invalid byte) is a control
		}
		o := origin{baseByte + int32(i), baseByte + int32(i+size), rpos}
		i += size
		rpos++
		switch cls {
		case clsControl:
			continue
		case clsSpace:
			s.flush(k)
			continue
		}
		if c < utf8.RuneSelf {
			if cls == clsPunct {
				s.flush(k)
				s.add(c, o)
				s.flush(k)
				continue
			}
			if s.lower && c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			s.add(c, o)
			continue
		}
		cjk := cls == clsCJK && s.chinese
		if cjk {
			s.flush(k)
		}
		s.nr = normalizeRune(s.nr[:0], c, s.strip, s.lower, s.tmp)
		for _, nc := range s.nr {
			if isPunct(nc) {
				s.flush(k)
				s.add(nc, o)
				s.flush(k)
				continue
			}
			s.add(nc, o)
		}
		if cjk {
			s.flush(k)
		}
	}
	s.flush(k)
	return rpos
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

func (c *wordCollector) word(_ []byte, _ []int32, orig []origin) {
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
	s := splitter{chinese: true}
	c := wordCollector{text: text}
	s.run(text, 0, 0, &c)
	return c.words
}
