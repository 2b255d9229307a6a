package tokenize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is a piece of a text.
type Span struct {
	Start, End         int // rune offsets, End exclusive
	ByteStart, ByteEnd int // byte offsets, ByteEnd exclusive
}

// abbreviations are lowercased tokens ending in '.' after which a period
// does not end a sentence in Portuguese clinical text.
var abbreviations = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range strings.Fields(`dr. dra. drs. dras. sr. sra. srs. sras. srta. prof. profa. enf. fisio.
		p.ex. ex. aprox. n. nº. n.º. no. núm. num. mg. mcg. ml. comp. cp. cps. máx. max. mín. min. obs. ref. refs.
		fig. tab. pág. pag. vol. cap. art. inc. av. hosp. amb. cf. vs. adm. id. ap. apres. sol. susp. gts. gt.
		aa. qsp. vo. ev. im. sc. tb. pq. sr.ª sra.ª séc. dec. cel. ltda. cia. etc.`) {
		m[a] = true
	}
	return m
}()

const closers = "\"')]}"

// SplitSentences splits raw Portuguese clinical text into sentences and
// returns their spans, trimmed of surrounding whitespace. Rules:
//
//   - '.', '!', '?' and '…' (runs of them, then closing quotes or brackets)
//     end a sentence when followed by whitespace or the end of the text;
//   - except a period after an abbreviation (Dr., Dra., Sr., Sra., p.ex.,
//     aprox., n.º, mg., comp., máx., obs., ...), after a single letter
//     (initials), after an enumeration number that starts the sentence
//     ("1. Dipirona"), or when the next word starts with a lowercase letter
//     or a digit; numbers such as "0,5", "1.5" and dates "12/03/2020" have
//     no space after the separator and never split;
//   - a line break ends a sentence unless the next line starts with a
//     lowercase letter (a wrapped line); a blank line always does.
//
// Offsets count invalid UTF-8 bytes as one rune each.
func SplitSentences(text string) []Span {
	var out []Span
	start := 0
	emit := func(end int) {
		s := strings.TrimLeftFunc(text[start:end], unicode.IsSpace)
		bs := end - len(s)
		s = strings.TrimRightFunc(s, unicode.IsSpace)
		if s != "" {
			out = append(out, Span{ByteStart: bs, ByteEnd: bs + len(s)})
		}
		start = end
	}
	for i := 0; i < len(text); {
		c, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case c == '\n':
			j := i + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
				j++
			}
			blank := j < len(text) && text[j] == '\n'
			next, _ := utf8.DecodeRuneInString(text[j:])
			if blank || j == len(text) || !unicode.IsLower(next) {
				emit(i)
			}
			i++
			continue
		case c == '.' || c == '!' || c == '?' || c == '…':
			j := i
			for j < len(text) {
				d, m := utf8.DecodeRuneInString(text[j:])
				if d == '.' || d == '!' || d == '?' || d == '…' {
					j += m
					continue
				}
				break
			}
			for j < len(text) && strings.IndexByte(closers, text[j]) >= 0 {
				j++
			}
			for strings.HasPrefix(text[j:], "”") || strings.HasPrefix(text[j:], "»") || strings.HasPrefix(text[j:], "’") {
				_, m := utf8.DecodeRuneInString(text[j:])
				j += m
			}
			if j == len(text) {
				emit(j)
				i = j
				continue
			}
			d, _ := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsSpace(d) {
				i = j
				continue
			}
			if c == '.' && j == i+1 && !periodEnds(text, start, i, j) {
				i = j
				continue
			}
			emit(j)
			i = j
			continue
		}
		i += n
	}
	emit(len(text))
	// rune offsets
	r, b := 0, 0
	for k := range out {
		r += utf8.RuneCountInString(text[b:out[k].ByteStart])
		out[k].Start = r
		r += utf8.RuneCountInString(text[out[k].ByteStart:out[k].ByteEnd])
		out[k].End = r
		b = out[k].ByteEnd
	}
	return out
}

// periodEnds decides whether the period at text[dot] (followed by
// whitespace at after) ends the sentence that started at start.
func periodEnds(text string, start, dot, after int) bool {
	ws := strings.LastIndexFunc(text[:dot], unicode.IsSpace) + 1
	ws = max(ws, start)
	tok := text[ws : dot+1]
	tok = strings.TrimLeft(tok, "([{\"'«“")
	lower := strings.ToLower(tok)
	if abbreviations[lower] {
		return false
	}
	body := tok[:len(tok)-1]
	if utf8.RuneCountInString(body) == 1 {
		if r, _ := utf8.DecodeRuneInString(body); unicode.IsLetter(r) {
			return false // initial
		}
	}
	if strings.Contains(body, ".") && !strings.ContainsFunc(body, unicode.IsDigit) {
		return false // p.ex., a.c.
	}
	if body != "" && len(body) <= 3 && strings.TrimFunc(body, unicode.IsDigit) == "" && strings.TrimSpace(text[start:ws]) == "" {
		return false // enumeration "1. "
	}
	k := after
	for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
		k++
	}
	next, _ := utf8.DecodeRuneInString(text[k:])
	return !(unicode.IsLower(next) || unicode.IsDigit(next))
}
