package tokenize

import "unicode/utf8"

// vocab is a WordPiece vocabulary: ids are line numbers of vocab.txt.
type vocab struct {
	tokens   []string         // id -> token
	start    map[string]int32 // word-initial pieces
	cont     map[string]int32 // continuation pieces, keyed without the "##" prefix
	maxStart int              // longest key of start, in bytes
	maxCont  int              // longest key of cont, in bytes
}

const contPrefix = "##"

// newVocab indexes tokens; a token listed twice maps to its last line,
// as transformers' load_vocab does.
func newVocab(tokens []string) *vocab {
	v := &vocab{tokens: tokens, start: make(map[string]int32, len(tokens)), cont: make(map[string]int32, len(tokens)/3)}
	for i, t := range tokens {
		v.start[t] = int32(i)
		v.maxStart = max(v.maxStart, len(t))
		if len(t) > len(contPrefix) && t[:len(contPrefix)] == contPrefix {
			k := t[len(contPrefix):]
			v.cont[k] = int32(i)
			v.maxCont = max(v.maxCont, len(k))
		}
	}
	return v
}

// piece is one WordPiece sub-token of a word: id and the normalized rune
// range [rs, re) of the word it covers.
type piece struct {
	id     int32
	rs, re int32
}

// wordPiece splits one normalized word (bytes w, rune byte offsets pos with
// len(pos) = runes+1) by greedy longest match first, as HF's WordPiece model:
// a word of more than maxChars runes, or one with no complete path, is a
// single unk piece covering the whole word.
func (v *vocab) wordPiece(dst []piece, w []byte, pos []int32, unk int32, maxChars int) []piece {
	n := len(pos) - 1
	if n <= 0 {
		return dst
	}
	if n > maxChars {
		return append(dst, piece{unk, 0, int32(n)})
	}
	mark := len(dst)
	start := 0
	for start < n {
		m, limit := v.start, v.maxStart
		if start > 0 {
			m, limit = v.cont, v.maxCont
		}
		end := n
		for end > start && int(pos[end]-pos[start]) > limit {
			end--
		}
		found := int32(-1)
		for ; end > start; end-- {
			if id, ok := m[string(w[pos[start]:pos[end]])]; ok {
				found = id
				break
			}
		}
		if found < 0 {
			return append(dst[:mark], piece{unk, 0, int32(n)})
		}
		dst = append(dst, piece{found, int32(start), int32(end)})
		start = end
	}
	return dst
}

// runePositions fills pos with the byte offset of each rune of w and len(w).
func runePositions(pos []int32, w []byte) []int32 {
	pos = pos[:0]
	for i := 0; i < len(w); {
		pos = append(pos, int32(i))
		if w[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, n := utf8.DecodeRune(w[i:])
		i += n
	}
	return append(pos, int32(len(w)))
}
