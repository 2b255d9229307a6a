package tokenize

import (
	"sort"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// rng is an inclusive code point range.
type rng struct{ lo, hi rune }

// lowerPair is one entry of Rust's char::to_lowercase.
type lowerPair struct {
	r     rune
	lower string
}

// Character classes, as BertNormalizer and BertPreTokenizer see a code point.
const (
	clsOther   uint8 = iota // part of a word
	clsControl              // deleted by clean_text
	clsSpace                // becomes ' ' (word boundary)
	clsPunct                // a word of its own
	clsCJK                  // a word of its own when TokenizeChinese
)

// asciiClass is the class of each ASCII byte, computed once from the generated tables.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for i := range t {
		t[i] = classOfSlow(rune(i))
	}
	return t
}()

// asciiWord marks the ASCII bytes of class clsOther (false for bytes >= 0x80).
var asciiWord = func() (t [256]bool) {
	for i := range utf8.RuneSelf {
		t[i] = asciiClass[i] == clsOther
	}
	return t
}()

// asciiBytes holds every byte value at its own index.
var asciiBytes = func() (b [256]byte) {
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// tableRunes bounds the code points newNormTable caches: Latin, Greek,
// Cyrillic and the rest of the two-byte range, up to General Punctuation,
// super/subscripts and currency symbols.
const tableRunes = 0x2100

// Kinds of a normEntry.
const (
	kindGeneral uint8 = iota // not cached: use splitter.general
	kindControl              // deleted
	kindSpace                // a word boundary
	kindWord                 // appends its normalized bytes (none of them punctuation; maybe empty)
	kindPunct                // its normalized form is one punctuation rune: a word of its own
)

type normEntry struct {
	off         uint32 // normalized bytes: normTable.b[off : off+n]
	n, nr, kind uint8  // byte and rune lengths, kind
}

// normTable caches, for the code points below tableRunes, what
// splitter.general does with them for one strip/lower mode.
type normTable struct {
	e [tableRunes]normEntry
	b []byte
}

func newNormTable(strip, lower bool) *normTable {
	t := &normTable{}
	var nr []rune
	for r := rune(utf8.RuneSelf); r < tableRunes; r++ {
		e := &t.e[r]
		switch classOfSlow(r) {
		case clsControl:
			e.kind = kindControl
			continue
		case clsSpace:
			e.kind = kindSpace
			continue
		case clsCJK: // not below tableRunes; depends on TokenizeChinese
			continue
		}
		nr = normalizeRune(nr[:0], r, strip, lower, nil)
		punct := 0
		for _, c := range nr {
			if isPunct(c) {
				punct++
			}
		}
		kind := kindWord
		switch {
		case punct == 1 && len(nr) == 1:
			kind = kindPunct
		case punct > 0:
			continue
		}
		off := len(t.b)
		for _, c := range nr {
			t.b = utf8.AppendRune(t.b, c)
		}
		if len(t.b)-off > 255 {
			t.b = t.b[:off]
			continue
		}
		*e = normEntry{off: uint32(off), n: uint8(len(t.b) - off), nr: uint8(len(nr)), kind: kind}
	}
	return t
}

func inRanges(tab []rng, r rune) bool {
	i := sort.Search(len(tab), func(i int) bool { return tab[i].hi >= r })
	return i < len(tab) && tab[i].lo <= r
}

// isCJK reports whether r is in the CJK blocks HF pads with spaces
// (tokenizers/src/normalizers/bert.rs is_chinese_char). Note HF's
// 0x2B920 start (not 0x2B820: U+2B820..U+2B91F stays a normal character).
func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

func classOfSlow(r rune) uint8 {
	switch {
	case r == 0 || r == utf8.RuneError || inRanges(hfControl, r):
		return clsControl
	case inRanges(hfSpace, r):
		return clsSpace
	case inRanges(hfPunct, r):
		return clsPunct
	case isCJK(r):
		return clsCJK
	}
	return clsOther
}

// classOf classifies a code point of the original text (clean_text view).
func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	return classOfSlow(r)
}

// isPunct reports whether the pre-tokenizer isolates r.
func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiClass[r] == clsPunct
	}
	return inRanges(hfPunct, r)
}

// isStrippedMark reports whether strip_accents deletes r (Unicode 8.0 Mn).
func isStrippedMark(r rune) bool {
	return r >= 0x300 && inRanges(hfMark, r)
}

// lowerRune appends Rust's char::to_lowercase(r) to dst.
func lowerRune(dst []rune, r rune) []rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, r)
	}
	i := sort.Search(len(hfLower), func(i int) bool { return hfLower[i].r >= r })
	if i < len(hfLower) && hfLower[i].r == r {
		for _, l := range hfLower[i].lower {
			dst = append(dst, l)
		}
		return dst
	}
	return append(dst, r)
}

// normalizeRune appends the normalized form of one original character
// (already known not to be control, space or CJK) to dst: NFD and
// deletion of non-spacing marks when strip, then lowercasing when lower,
// in HF's order (strip_accents before lowercase).
func normalizeRune(dst []rune, r rune, strip, lower bool, tmp []byte) []rune {
	if r < utf8.RuneSelf {
		if lower && r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, r)
	}
	if !strip {
		if lower {
			return lowerRune(dst, r)
		}
		return append(dst, r)
	}
	tmp = utf8.AppendRune(tmp[:0], r)
	if norm.NFD.IsNormal(tmp) {
		if isStrippedMark(r) {
			return dst
		}
		if lower {
			return lowerRune(dst, r)
		}
		return append(dst, r)
	}
	d := norm.NFD.Bytes(tmp)
	for len(d) > 0 {
		c, n := utf8.DecodeRune(d)
		d = d[n:]
		if isStrippedMark(c) {
			continue
		}
		if lower {
			dst = lowerRune(dst, c)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}
