package metrics

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Scheme is a chunk tagging scheme: how a tag's prefix marks an entity's
// position. The zero value is IOB2, the paper's scheme. The ner package
// reads, converts and decodes tags with the same type.
type Scheme int

// The tagging schemes (Tjong Kim Sang and Veenstra 1999; Ratinov and Roth 2009).
const (
	// IOB2 (BIO): B- on every entity's first word, I- on the rest.
	IOB2 Scheme = iota
	// IOB1: I- on every entity word; B- only on the first word of an entity
	// that directly follows an entity of the same type (CoNLL-2003 original).
	IOB1
	// IO: I- on every entity word; adjacent entities of one type merge.
	IO
	// IOE1: I- on every entity word; E- only on the last word of an entity
	// directly followed by an entity of the same type.
	IOE1
	// IOE2: E- on every entity's last word, I- on the rest.
	IOE2
	// IOBES: S- for single-word entities, else B-, I-…, E-.
	IOBES
	// BILOU: U- for single-word entities, else B-, I-…, L- (IOBES renamed).
	BILOU
)

var schemeNames = [...]string{IOB2: "IOB2", IOB1: "IOB1", IO: "IO", IOE1: "IOE1", IOE2: "IOE2", IOBES: "IOBES", BILOU: "BILOU"}

var schemePrefixes = [...][]string{
	IOB2:  {"B", "I"},
	IOB1:  {"B", "I"},
	IO:    {"I"},
	IOE1:  {"E", "I"},
	IOE2:  {"E", "I"},
	IOBES: {"B", "E", "I", "S"},
	BILOU: {"B", "I", "L", "U"},
}

// String returns the scheme's name ("IOB2", …).
func (s Scheme) String() string {
	if s < 0 || int(s) >= len(schemeNames) {
		return fmt.Sprintf("Scheme(%d)", int(s))
	}
	return schemeNames[s]
}

// Validate reports whether s is one of the defined schemes.
func (s Scheme) Validate() error {
	if s < 0 || int(s) >= len(schemeNames) {
		return fmt.Errorf("metrics: unknown scheme %d", int(s))
	}
	return nil
}

// Prefixes returns the sorted tag prefixes the scheme uses besides "O".
func (s Scheme) Prefixes() []string {
	if s.Validate() != nil {
		return nil
	}
	return append([]string(nil), schemePrefixes[s]...)
}

// MarshalText writes the scheme's name, so that options and configs hold
// "IOB2" rather than a number.
func (s Scheme) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a scheme name with ParseScheme.
func (s *Scheme) UnmarshalText(b []byte) error {
	v, err := ParseScheme(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseScheme reads a scheme name, case-insensitively: IOB2 (also "BIO"),
// IOB1, IO, IOE1, IOE2, IOBES (also "BIOES"), BILOU.
func ParseScheme(name string) (Scheme, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "IOB2", "BIO":
		return IOB2, nil
	case "IOB1":
		return IOB1, nil
	case "IO":
		return IO, nil
	case "IOE1":
		return IOE1, nil
	case "IOE2":
		return IOE2, nil
	case "IOBES", "BIOES":
		return IOBES, nil
	case "BILOU":
		return BILOU, nil
	}
	return 0, fmt.Errorf("metrics: unknown scheme %q (want IOB2, IOB1, IO, IOE1, IOE2, IOBES or BILOU)", name)
}

// Mode selects the chunking rules. The zero value is Conlleval.
type Mode int

// The chunking modes; docs/METRICS.md has their rules.
const (
	Conlleval Mode = iota // conlleval.pl's rules, verbatim
	Lenient               // seqeval's default mode (get_entities)
	Strict                // seqeval's strict mode with a declared scheme
)

var modeNames = [...]string{"conlleval", "lenient", "strict"}

// String returns the mode's name: "conlleval", "lenient" or "strict".
func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// ParseMode reads a mode name: "conlleval", "lenient" (alias "default" and
// "seqeval", seqeval's default mode) or "strict".
func ParseMode(name string) (Mode, error) {
	switch strings.ToLower(name) {
	case "conlleval":
		return Conlleval, nil
	case "lenient", "default", "seqeval":
		return Lenient, nil
	case "strict":
		return Strict, nil
	}
	return 0, fmt.Errorf("metrics: unknown mode %q (want conlleval, default or strict)", name)
}

// Entity is one chunk: tokens [Start, End) of a sentence, of type Type.
// End is exclusive (seqeval's get_entities reports it inclusive).
type Entity struct {
	Type       string
	Start, End int
}

// String formats the entity as TYPE[start:end].
func (e Entity) String() string { return fmt.Sprintf("%s[%d:%d]", e.Type, e.Start, e.End) }

// Entities extracts the chunks of one sentence's tags under scheme and mode.
// It accepts any strings (an empty tag reads as O) and never panics. In
// Conlleval and Lenient modes the scheme matters only for BILOU in Lenient
// mode (L and U read as E and S); in Strict mode it selects the patterns.
func Entities(tags []string, scheme Scheme, mode Mode) []Entity {
	switch mode {
	case Lenient:
		return seqevalEntities(tags, scheme)
	case Strict:
		return strictEntities(tags, scheme)
	default:
		return conllevalEntities(tags)
	}
}

// ---- conlleval.pl ----

// splitConll splits a tag as conlleval.pl's /^([^-]*)-(.*)$/: at the first '-'.
func splitConll(tag string) (prefix, typ string) {
	if i := strings.IndexByte(tag, '-'); i >= 0 {
		return tag[:i], tag[i+1:]
	}
	return tag, ""
}

// endOfChunk is conlleval.pl's endOfChunk: did a chunk end between the
// previous and the current word?
func endOfChunk(prevTag, tag, prevType, typ string) bool {
	switch {
	case prevTag == "B" && (tag == "B" || tag == "O"),
		prevTag == "I" && (tag == "B" || tag == "O"),
		prevTag == "E" && (tag == "E" || tag == "I" || tag == "O"):
		return true
	case prevTag != "O" && prevTag != "." && prevType != typ:
		return true
	case prevTag == "]" || prevTag == "[":
		return true
	}
	return false
}

// startOfChunk is conlleval.pl's startOfChunk: did a chunk start between the
// previous and the current word?
func startOfChunk(prevTag, tag, prevType, typ string) bool {
	switch {
	case tag == "B" && (prevTag == "B" || prevTag == "I" || prevTag == "O"),
		tag == "I" && prevTag == "O",
		prevTag == "E" && (tag == "E" || tag == "I"),
		prevTag == "O" && tag == "E":
		return true
	case tag != "O" && tag != "." && prevType != typ:
		return true
	case tag == "[" || tag == "]":
		return true
	}
	return false
}

func conllevalEntities(tags []string) []Entity {
	var out []Entity
	prevTag, prevType := "O", ""
	open, start, typ := false, 0, ""
	for i := 0; i <= len(tags); i++ {
		tag, t := "O", ""
		if i < len(tags) && tags[i] != "" {
			tag, t = splitConll(tags[i])
		}
		if open && endOfChunk(prevTag, tag, prevType, t) {
			out = append(out, Entity{typ, start, i})
			open = false
		}
		if i < len(tags) && startOfChunk(prevTag, tag, prevType, t) {
			if open { // started again without an end: the old chunk stops here
				out = append(out, Entity{typ, start, i})
			}
			open, start, typ = true, i, t
		}
		prevTag, prevType = tag, t
	}
	if open { // a chunk the final O does not end (e.g. after a "." tag)
		out = append(out, Entity{typ, start, len(tags)})
	}
	return out
}

// ---- seqeval default mode ----

// splitSeqeval splits a tag as seqeval's get_entities: the prefix is the first
// character, the type chunk[1:].split('-', 1)[-1] or '_'.
func splitSeqeval(tag string, scheme Scheme) (prefix, typ string) {
	if tag == "" {
		return "O", "_"
	}
	_, n := utf8.DecodeRuneInString(tag)
	prefix, rest := tag[:n], tag[n:]
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		rest = rest[i+1:]
	}
	if rest == "" {
		rest = "_"
	}
	if scheme == BILOU {
		switch prefix {
		case "L":
			prefix = "E"
		case "U":
			prefix = "S"
		}
	}
	return prefix, rest
}

func seqevalEnd(prevTag, tag, prevType, typ string) bool {
	switch {
	case prevTag == "E" || prevTag == "S":
		return true
	case (prevTag == "B" || prevTag == "I") && (tag == "B" || tag == "S" || tag == "O"):
		return true
	}
	return prevTag != "O" && prevTag != "." && prevType != typ
}

func seqevalStart(prevTag, tag, prevType, typ string) bool {
	switch {
	case tag == "B" || tag == "S":
		return true
	case (prevTag == "E" || prevTag == "S" || prevTag == "O") && (tag == "E" || tag == "I"):
		return true
	}
	return tag != "O" && tag != "." && prevType != typ
}

func seqevalEntities(tags []string, scheme Scheme) []Entity {
	var out []Entity
	prevTag, prevType := "O", ""
	begin := 0
	for i := 0; i <= len(tags); i++ {
		tag, t := "O", "_"
		if i < len(tags) {
			tag, t = splitSeqeval(tags[i], scheme)
		}
		if seqevalEnd(prevTag, tag, prevType, t) {
			out = append(out, Entity{prevType, begin, i})
		}
		if seqevalStart(prevTag, tag, prevType, t) {
			begin = i
		}
		prevTag, prevType = tag, t
	}
	return dedupe(out)
}

// dedupe sorts entities by (Start, End, Type) and removes duplicates (seqeval
// compares sets of entities).
func dedupe(es []Entity) []Entity {
	sorted := true
	for i := 1; i < len(es) && sorted; i++ {
		sorted = compareEntities(es[i-1], es[i]) < 0
	}
	if sorted {
		return es
	}
	sortEntities(es)
	out := es[:0]
	for i, e := range es {
		if i > 0 && e == es[i-1] {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ---- seqeval strict mode ----

type prefix uint8

const (
	pI prefix = 1 << iota
	pO
	pB
	pE
	pS
	pU
	pL
	pBad // a prefix seqeval does not know (KeyError) or the scheme does not allow
	pAny = pI | pO | pB | pE | pS | pU | pL
)

type tagCond uint8

const (
	same tagCond = 1 << iota
	diff
	anyTag = same | diff
)

type pattern struct {
	prev, cur prefix
	cond      tagCond
}

type schemePatterns struct {
	allowed             prefix
	start, inside, stop []pattern
}

// strictSchemes are seqeval.scheme's IOB1 … BILOU classes (seqeval 1.2.2);
// IO, which seqeval lacks, chunks runs of I- of one type.
var strictSchemes = [...]schemePatterns{
	IO: {
		allowed: pI | pO,
		start:   []pattern{{pO, pI, anyTag}, {pI, pI, diff}},
		inside:  []pattern{{pI, pI, same}},
		stop:    []pattern{{pI, pO, anyTag}, {pI, pI, diff}},
	},
	IOB2: {
		allowed: pI | pO | pB,
		start:   []pattern{{pAny, pB, anyTag}},
		inside:  []pattern{{pB, pI, same}, {pI, pI, same}},
		stop: []pattern{{pI, pO, anyTag}, {pI, pI, diff}, {pI, pB, anyTag},
			{pB, pO, anyTag}, {pB, pI, diff}, {pB, pB, anyTag}},
	},
	IOB1: {
		allowed: pI | pO | pB,
		start: []pattern{{pO, pI, anyTag}, {pI, pI, diff}, {pB, pI, anyTag},
			{pI, pB, same}, {pB, pB, same}},
		inside: []pattern{{pB, pI, same}, {pI, pI, same}},
		stop: []pattern{{pI, pI, diff}, {pI, pO, anyTag}, {pI, pB, anyTag},
			{pB, pO, anyTag}, {pB, pI, diff}, {pB, pB, same}},
	},
	IOE1: {
		allowed: pI | pO | pE,
		start:   []pattern{{pO, pI, anyTag}, {pI, pI, diff}, {pE, pI, anyTag}, {pE, pE, same}},
		inside:  []pattern{{pI, pI, same}, {pI, pE, same}},
		stop: []pattern{{pI, pI, diff}, {pI, pO, anyTag}, {pI, pE, diff},
			{pE, pI, same}, {pE, pE, same}},
	},
	IOE2: {
		allowed: pI | pO | pE,
		start: []pattern{{pO, pI, anyTag}, {pO, pE, anyTag}, {pE, pI, anyTag},
			{pE, pE, anyTag}, {pI, pI, diff}, {pI, pE, diff}},
		inside: []pattern{{pI, pE, same}, {pI, pI, same}},
		stop:   []pattern{{pE, pAny, anyTag}},
	},
	IOBES: {
		allowed: pI | pO | pB | pE | pS,
		start:   []pattern{{pAny, pB, anyTag}, {pAny, pS, anyTag}},
		inside:  []pattern{{pB, pI, same}, {pB, pE, same}, {pI, pI, same}, {pI, pE, same}},
		stop:    []pattern{{pS, pAny, anyTag}, {pE, pAny, anyTag}},
	},
	BILOU: {
		allowed: pB | pI | pL | pO | pU,
		start:   []pattern{{pAny, pB, anyTag}, {pAny, pU, anyTag}},
		inside:  []pattern{{pB, pI, same}, {pB, pL, same}, {pI, pI, same}, {pI, pL, same}},
		stop:    []pattern{{pU, pAny, anyTag}, {pL, pAny, anyTag}},
	},
}

type strictToken struct {
	p   prefix
	typ string
}

// parseStrict reads a tag as seqeval's Token: prefix token[0], tag
// token[1:].strip('-') or '_'.
func parseStrict(tag string) strictToken {
	if tag == "" {
		return strictToken{pBad, "_"}
	}
	var p prefix
	switch tag[0] {
	case 'I':
		p = pI
	case 'O':
		p = pO
	case 'B':
		p = pB
	case 'E':
		p = pE
	case 'S':
		p = pS
	case 'U':
		p = pU
	case 'L':
		p = pL
	default:
		p = pBad
	}
	_, n := utf8.DecodeRuneInString(tag)
	t := strings.Trim(tag[n:], "-")
	if t == "" {
		t = "_"
	}
	return strictToken{p, t}
}

func (s *schemePatterns) match(prev, cur strictToken, ps []pattern) bool {
	for _, q := range ps {
		if prev.p&q.prev == 0 || cur.p&q.cur == 0 {
			continue
		}
		if q.cond == anyTag || (q.cond == same && prev.typ == cur.typ) || (q.cond == diff && prev.typ != cur.typ) {
			return true
		}
	}
	return false
}

// invalidStrict returns the index of the first tag whose prefix the scheme
// does not allow, or -1.
func invalidStrict(tags []string, scheme Scheme) int {
	if scheme < 0 || int(scheme) >= len(strictSchemes) {
		if len(tags) > 0 {
			return 0
		}
		return -1
	}
	allowed := strictSchemes[scheme].allowed
	for i, t := range tags {
		if parseStrict(t).p&allowed == 0 {
			return i
		}
	}
	return -1
}

func strictEntities(tags []string, scheme Scheme) []Entity {
	if scheme < 0 || int(scheme) >= len(strictSchemes) {
		return nil
	}
	s := &strictSchemes[scheme]
	outside := strictToken{pO, "_"}
	toks := make([]strictToken, len(tags)+1)
	for i, t := range tags {
		toks[i] = parseStrict(t)
		if toks[i].p&s.allowed == 0 {
			toks[i] = outside
		}
	}
	toks[len(tags)] = outside
	var out []Entity
	prev := outside
	for i := 0; i < len(toks); {
		tok := toks[i]
		if s.match(prev, tok, s.start) {
			// _forward: advance while tokens are inside the chunk.
			end, p := len(toks)-2, tok
			for j := i + 1; j < len(toks); j++ {
				if !s.match(p, toks[j], s.inside) {
					end = j
					break
				}
				p = toks[j]
			}
			if end >= 1 && s.match(toks[end-1], toks[end], s.stop) {
				out = append(out, Entity{tok.typ, i, end})
			}
			if end <= i { // cannot happen (the final O is never inside); guards the loop
				end = i + 1
			}
			i = end
		} else {
			i++
		}
		prev = toks[i-1]
	}
	return out
}
