package tokenize

import (
	"slices"
	"strings"
)

// vocab is a WordPiece vocabulary: ids are line numbers of vocab.txt. The
// tokens are kept as one string and their end offsets, which the garbage
// collector does not have to scan token by token.
type vocab struct {
	text   string   // the tokens, concatenated
	ends   []uint32 // ends[id]: end of token id in text; it starts at ends[id-1] (0 for id 0)
	trie   trie     // every token, for lookups and longest-prefix matching
	cont   int32    // trie node of "##": continuation pieces start here
	hasCnt bool     // whether the vocabulary has a "##" node
}

const contPrefix = "##"

// newVocab indexes tokens; a token listed twice maps to its last line,
// as transformers' load_vocab does.
func newVocab(tokens []string) *vocab {
	var b strings.Builder
	n := 0
	for _, t := range tokens {
		n += len(t)
	}
	b.Grow(n)
	v := &vocab{ends: make([]uint32, len(tokens)), trie: newTrie(tokens)}
	for i, t := range tokens {
		b.WriteString(t)
		v.ends[i] = uint32(b.Len())
	}
	v.text = b.String()
	v.cont, v.hasCnt = v.trie.walk(0, contPrefix)
	return v
}

// trie is a double-array trie over the vocabulary bytes (Aoe 1989): the
// child of node s along byte c is node base(s)+c when that node's check is
// s. A walk costs a few instructions per byte and no hashing.
type trie struct {
	nodes []dnode // nodes[0] is the root
}

type dnode struct {
	base  int32 // children are at base+c
	check int32 // index of the parent; -1 for a free slot (and the root)
	id    int32 // token id, -1 when no token ends here
}

// listTrie is the intermediate form newTrie builds first: the children of
// a node are consecutive nodes sorted by label, so a node stores only its
// first child and their number.
type listTrie struct {
	nodes []lnode
	label []byte // label[i]: the byte on the edge into node i
}

type lnode struct {
	first uint32 // index of the first child
	id    int32  // token id, -1 when no token ends here
	n     uint16 // number of children
}

// newTrie builds the trie of tokens (a token listed twice keeps its last
// id). Each node's keys are bucketed by their next byte (an MSD radix sort
// done while building), so the cost is linear in the vocabulary's bytes.
func newTrie(tokens []string) trie {
	return newListTrie(tokens).doubleArray()
}

func newListTrie(tokens []string) listTrie {
	idx := make([]int32, len(tokens))
	for i := range idx {
		idx[i] = int32(i)
	}
	tmp := make([]int32, len(tokens))
	// idx[lo:hi] are the keys below node, which share their first depth bytes.
	type span struct{ lo, hi, depth, node int32 }
	t := listTrie{nodes: make([]lnode, 1, len(tokens)*3), label: make([]byte, 1, len(tokens)*3)}
	t.nodes[0].id = -1
	stack := []span{{0, int32(len(tokens)), 0, 0}}
	var count [257]int32
	for len(stack) > 0 {
		sp := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d := int(sp.depth)
		// keys ending here (all equal) go first; the last id wins
		id, lo := int32(-1), sp.lo
		for k := sp.lo; k < sp.hi; k++ {
			if len(tokens[idx[k]]) == d {
				id = max(id, idx[k])
				idx[lo], idx[k] = idx[k], idx[lo]
				lo++
			}
		}
		t.nodes[sp.node].id = id
		keys := idx[lo:sp.hi]
		if len(keys) <= 24 { // insertion sort by byte d
			for k := 1; k < len(keys); k++ {
				for j := k; j > 0 && tokens[keys[j]][d] < tokens[keys[j-1]][d]; j-- {
					keys[j], keys[j-1] = keys[j-1], keys[j]
				}
			}
		} else { // counting sort by byte d
			count = [257]int32{}
			for _, k := range keys {
				count[int(tokens[k][d])+1]++
			}
			for c := 1; c < 257; c++ {
				count[c] += count[c-1]
			}
			out := tmp[:len(keys)]
			for _, k := range keys {
				c := tokens[k][d]
				out[count[c]] = k
				count[c]++
			}
			copy(keys, out)
		}
		first := len(t.nodes)
		for a := 0; a < len(keys); {
			c := tokens[keys[a]][d]
			b := a + 1
			for b < len(keys) && tokens[keys[b]][d] == c {
				b++
			}
			stack = append(stack, span{lo + int32(a), lo + int32(b), sp.depth + 1, int32(len(t.nodes))})
			t.nodes = append(t.nodes, lnode{id: -1})
			t.label = append(t.label, c)
			a = b
		}
		t.nodes[sp.node].first, t.nodes[sp.node].n = uint32(first), uint16(len(t.nodes)-first)
	}
	return t
}

// doubleArray places the nodes breadth first, each node's children at the
// first base (among the first maxTries free slots, else past the end) where
// all their slots are free. nf finds the next free slot (union-find with
// path halving: nf[k] == k for a free slot).
func (lt listTrie) doubleArray() trie {
	n := len(lt.nodes)
	d := make([]dnode, 1, n+n/4+256)
	d[0] = dnode{check: -1, id: lt.nodes[0].id}
	nf := make([]int32, 1, cap(d))
	nf[0] = 1 // slot 0 is the root
	grow := func(k int) {
		for len(d) <= k {
			nf = append(nf, int32(len(d)))
			d = append(d, dnode{check: -1, id: -1})
		}
	}
	nextFree := func(k int) int { // the first free slot >= k
		for k < len(nf) && int(nf[k]) != k {
			nf[k] = nf[nf[k]]
			k = int(nf[k])
		}
		return k
	}
	const maxTries = 256
	type item struct{ list, pos int32 }
	queue := []item{{0, 0}}
	for q := 0; q < len(queue); q++ {
		it := queue[q]
		ln := lt.nodes[it.list]
		if ln.n == 0 {
			continue
		}
		labels := lt.label[ln.first : ln.first+uint32(ln.n)]
		base := 0
		for p, tries := nextFree(1), 0; ; p = nextFree(p + 1) {
			if tries++; tries > maxTries {
				p = len(d)
			}
			base = p - int(labels[0])
			ok := true
			for _, c := range labels[1:] {
				if k := base + int(c); k < len(d) && d[k].check >= 0 {
					ok = false
					break
				}
			}
			if ok {
				break
			}
		}
		grow(base + 255)
		d[it.pos].base = int32(base)
		for i, c := range labels {
			k := base + int(c)
			nf[k] = int32(k + 1)
			child := int32(ln.first) + int32(i)
			d[k] = dnode{check: it.pos, id: lt.nodes[child].id}
			queue = append(queue, item{child, int32(k)})
		}
		if q >= 1<<16 && q*2 > len(queue) { // drop the processed half
			queue = append(queue[:0], queue[q+1:]...)
			q = -1
		}
	}
	return trie{nodes: slices.Clip(d)}
}

// child returns the child of node s along byte c.
func (t *trie) child(s int32, c byte) (int32, bool) {
	k := t.nodes[s].base + int32(c)
	if uint32(k) >= uint32(len(t.nodes)) || t.nodes[k].check != s {
		return 0, false
	}
	return k, true
}

// walk follows key from node s.
func (t *trie) walk(s int32, key string) (int32, bool) {
	for i := 0; i < len(key); i++ {
		var ok bool
		if s, ok = t.child(s, key[i]); !ok {
			return 0, false
		}
	}
	return s, true
}

// longest returns the id and byte length of the longest prefix of w that
// ends on a rune boundary and is a key below node s, or -1 and 0.
func (t *trie) longest(s int32, w []byte) (int32, int) {
	id, end := int32(-1), 0
	nodes := t.nodes
	for i := 0; i < len(w); i++ {
		k := nodes[s].base + int32(w[i])
		if uint32(k) >= uint32(len(nodes)) || nodes[k].check != s {
			break
		}
		s = k
		if nid := nodes[k].id; nid >= 0 && (i+1 == len(w) || w[i+1]&0xC0 != 0x80) {
			id, end = nid, i+1
		}
	}
	return id, end
}

// size is the number of ids.
func (v *vocab) size() int { return len(v.ends) }

// token returns the token of a valid id.
func (v *vocab) token(id int32) string {
	start := uint32(0)
	if id > 0 {
		start = v.ends[id-1]
	}
	return v.text[start:v.ends[id]]
}

// id returns the id of token tok.
func (v *vocab) id(tok string) (int32, bool) {
	s, ok := v.trie.walk(0, tok)
	if !ok || v.trie.nodes[s].id < 0 {
		return -1, false
	}
	return v.trie.nodes[s].id, true
}

// piece is one WordPiece sub-token of a word: id and the byte range
// [bs, be) of the normalized word it covers.
type piece struct {
	id     int32
	bs, be int32
}

// wordPiece splits one normalized word w of nrunes runes by greedy longest
// match first, as HF's WordPiece model: a word of more than maxChars runes,
// or one with no complete path, is a single unk piece covering the whole
// word. Matches end on rune boundaries, as HF's char-wise search does.
func (v *vocab) wordPiece(dst []piece, w []byte, nrunes int, unk int32, maxChars int) []piece {
	if len(w) == 0 {
		return dst
	}
	if nrunes > maxChars {
		return append(dst, piece{unk, 0, int32(len(w))})
	}
	mark := len(dst)
	node := int32(0) // the root for the first piece, then "##"
	for start := 0; start < len(w); {
		id, n := int32(-1), 0
		if start == 0 || v.hasCnt {
			id, n = v.trie.longest(node, w[start:])
		}
		if id < 0 {
			return append(dst[:mark], piece{unk, 0, int32(len(w))})
		}
		dst = append(dst, piece{id, int32(start), int32(start + n)})
		start += n
		node = v.cont
	}
	return dst
}
