package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// isPunct is BERT's BasicTokenizer._is_punctuation: ASCII symbols and
// Unicode punctuation (category P) split words.
func isPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

// basicTokens splits text as BERT's cased BasicTokenizer does: on white
// space, then around every punctuation character.
func basicTokens(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		start := 0
		rs := []rune(f)
		for i, r := range rs {
			if isPunct(r) {
				if start < i {
					out = append(out, string(rs[start:i]))
				}
				out = append(out, string(r))
				start = i + 1
			}
		}
		if start < len(rs) {
			out = append(out, string(rs[start:]))
		}
	}
	return out
}

// buildVocab selects a cased WordPiece vocabulary of about size entries
// from text:
//  1. the special tokens at mBERT's ids: [PAD]=0, [unused1..99]=1..99,
//     [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103;
//  2. every character of text, alone and as a "##" continuation, so that
//     no word is ever [UNK];
//  3. whole words seen at least twice, most frequent first, up to 70% of
//     the remaining room;
//  4. the most frequent word-initial pieces (2 to 8 characters) and "##"
//     continuations (2 to 6 characters) of the words left out (numbers
//     excepted: digits spell them), counted with the words' frequencies,
//     until size is reached.
//
// Ties are broken lexically, so the result is deterministic.
func buildVocab(text string, size int) []string {
	vocab := []string{"[PAD]"}
	for i := 1; i <= 99; i++ {
		vocab = append(vocab, fmt.Sprintf("[unused%d]", i))
	}
	vocab = append(vocab, "[UNK]", "[CLS]", "[SEP]", "[MASK]")
	seen := map[string]bool{}
	for _, v := range vocab {
		seen[v] = true
	}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			vocab = append(vocab, p)
		}
	}

	chars := map[rune]bool{}
	for _, r := range text {
		if !unicode.IsSpace(r) {
			chars[r] = true
		}
	}
	rs := make([]rune, 0, len(chars))
	for r := range chars {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	for _, r := range rs {
		add(string(r))
	}
	for _, r := range rs {
		add("##" + string(r))
	}

	counts := map[string]int{}
	for _, w := range basicTokens(text) {
		counts[w]++
	}
	words := sortedKeys(counts)
	room := size - len(vocab)
	wordBudget := len(vocab) + room*7/10
	var left []string
	for _, w := range words {
		if counts[w] >= 2 && len(vocab) < wordBudget {
			add(w)
		} else if !seen[w] {
			left = append(left, w)
		}
	}

	pieces := map[string]int{}
	for _, w := range left {
		if strings.ContainsAny(w, "0123456789") {
			continue // numbers are spelled with digit pieces
		}
		r := []rune(w)
		for n := 2; n <= 8 && n < len(r); n++ {
			pieces[string(r[:n])] += counts[w]
		}
		for n := 2; n <= 6 && n < len(r); n++ {
			pieces["##"+string(r[len(r)-n:])] += counts[w]
		}
	}
	for _, p := range sortedKeys(pieces) {
		if len(vocab) >= size {
			break
		}
		add(p)
	}
	return vocab
}
