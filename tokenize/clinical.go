package tokenize

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// WordSplitter names a way to split raw text into words: the words a
// tagger labels, which must be cut as the words of the corpus the model was
// trained on, since training labels the first sub-token of each corpus word
// and ignores the rest.
type WordSplitter string

// The word splitters.
const (
	// SplitterClinical is SplitClinicalWords: Portuguese clinical words
	// (CLINpt, SemClinBr), numbers, ratios, units and compounds kept whole.
	SplitterClinical WordSplitter = "clinical"
	// SplitterBERT is SplitWords: BERT's basic pre-tokenization, every
	// punctuation character a word of its own.
	SplitterBERT WordSplitter = "bert"
	// SplitterWhitespace is SplitWhitespaceWords: words are the runs of
	// non-space characters.
	SplitterWhitespace WordSplitter = "whitespace"
)

// WordSplitters lists the splitter names ParseWordSplitter accepts.
func WordSplitters() []WordSplitter {
	return []WordSplitter{SplitterClinical, SplitterBERT, SplitterWhitespace}
}

// ParseWordSplitter returns the splitter called name: "clinical", "bert" or
// "whitespace".
func ParseWordSplitter(name string) (WordSplitter, error) {
	for _, s := range WordSplitters() {
		if string(s) == name {
			return s, nil
		}
	}
	return "", fmt.Errorf("tokenize: word splitter %q: want clinical, bert or whitespace", name)
}

// Validate reports whether s is a known splitter.
func (s WordSplitter) Validate() error {
	_, err := ParseWordSplitter(string(s))
	return err
}

// Split splits text into words with s. An unknown splitter splits like
// SplitterBERT (Validate reports it).
func (s WordSplitter) Split(text string) []Word {
	switch s {
	case SplitterClinical:
		return SplitClinicalWords(text)
	case SplitterWhitespace:
		return SplitWhitespaceWords(text)
	}
	return SplitWords(text)
}

// SplitWhitespaceWords returns the runs of non-space characters of text
// (unicode.IsSpace separates words), with rune and byte offsets.
func SplitWhitespaceWords(text string) []Word {
	var out []Word
	start, startRune, nr := -1, 0, 0
	for i, r := range text {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, Word{Text: text[start:i], Start: startRune, End: nr, ByteStart: start, ByteEnd: i})
				start = -1
			}
		} else if start < 0 {
			start, startRune = i, nr
		}
		nr++
	}
	if start >= 0 {
		out = append(out, Word{Text: text[start:], Start: startRune, End: nr, ByteStart: start, ByteEnd: len(text)})
	}
	return out
}

// clinicalRune is one character of the text being split.
type clinicalRune struct {
	r      rune
	bs, be int // byte span
	ri     int // rune index
}

// SplitClinicalWords splits text into words the way Portuguese clinical
// corpora (CLINpt, SemClinBr) are tokenized, so that a tagger sees the words
// its training data had. The rules, in order:
//
//  1. Whitespace (unicode.IsSpace) separates words.
//  2. Letters, digits and combining marks (Unicode L, N, M) and the degree
//     sign "°" are word characters: "2ª", "37°", "SpO2", "82bpm".
//  3. A joiner between two word characters stays inside the word:
//     - "," and ":" between two digits: "10,2", "0,4", "12:30";
//     - "." between two word characters: "0.4g", "3.5", "p.ex", "i.v";
//     - "/" between two word characters: "150/90", "12/12h", "g/dL",
//     "89/61mmHg", "2/3", "sintomas/sinais";
//     - a hyphen ("-", U+2010, U+2011) between two word characters:
//     "angio-TC", "artério-venosa", "RM-CE";
//     - an apostrophe ("'", U+2019) between two letters: "d'água";
//     - a control or format character (Cc, Cf) or an invalid UTF-8 byte
//     between two word characters, as a mis-decoded dash:
//     "Osler\u0096Weber".
//  4. Every other character (punctuation, brackets, quotes, "%", "<", ">",
//     "+", "=", a joiner at the edge of a word) is a word of its own: the
//     sentence-final "." of "Dr." or "mmHg." and the "," of "anos," are
//     split off, as are "(" and ")" of "(DTC)" and the "%" of "99%".
//  5. A control or format character that rule 3 does not keep is dropped.
//
// Offsets index the original string: Start/End in runes (invalid UTF-8
// bytes count as one rune each and are treated like control characters),
// ByteStart/ByteEnd in bytes; Text is text[ByteStart:ByteEnd].
func SplitClinicalWords(text string) []Word {
	var out []Word
	var rs []clinicalRune
	ri := 0
	flushChunk := func() {
		splitClinicalChunk(text, rs, &out)
		rs = rs[:0]
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			flushChunk()
		} else {
			rs = append(rs, clinicalRune{r: r, bs: i, be: i + size, ri: ri})
		}
		i += size
		ri++
	}
	flushChunk()
	return out
}

// isClinicalWordRune reports whether r is a word character (rule 2).
func isClinicalWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) || r == '°')
}

// isDropped reports whether r is deleted unless it joins two word
// characters (rule 5): control and format characters and invalid bytes.
func isDropped(r rune) bool {
	return r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf)
}

// joins reports whether r, between the word character prev and the
// character next, stays inside the word (rule 3).
func joins(prev, r, next rune) bool {
	if !isClinicalWordRune(next) {
		return false
	}
	switch r {
	case ',', ':':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	case '.', '/', '-', '\u2010', '\u2011':
		return true
	case '\'', '\u2019':
		return unicode.IsLetter(prev) && unicode.IsLetter(next)
	}
	return isDropped(r)
}

// splitClinicalChunk splits one run of non-space characters (rules 2-5)
// and appends its words to out.
func splitClinicalChunk(text string, rs []clinicalRune, out *[]Word) {
	start := -1 // index in rs of the open word's first character
	end := -1   // index of its last character
	emit := func() {
		if start >= 0 {
			f, l := rs[start], rs[end]
			*out = append(*out, Word{Text: text[f.bs:l.be], Start: f.ri, End: l.ri + 1, ByteStart: f.bs, ByteEnd: l.be})
		}
		start, end = -1, -1
	}
	for i, c := range rs {
		switch {
		case isClinicalWordRune(c.r):
			if start < 0 {
				start = i
			}
			end = i
		case start >= 0 && end == i-1 && i+1 < len(rs) && joins(rs[i-1].r, c.r, rs[i+1].r):
			end = i
		case isDropped(c.r):
			emit()
		default:
			emit()
			start, end = i, i
			emit()
		}
	}
	emit()
}
