package tokenize

import (
	"bytes"
	"fmt"
	"strings"
)

// utf8BOM is the byte order mark some Windows editors put before UTF-8 text.
var utf8BOM = []byte("\uFEFF")

// normalizeVocabText drops a leading byte order mark and turns "\r\n" and
// lone "\r" line ends into "\n" (Python's universal newlines).
func normalizeVocabText(data []byte) []byte {
	data = bytes.TrimPrefix(data, utf8BOM)
	if bytes.IndexByte(data, '\r') < 0 {
		return data
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
}

// missingHint explains why a special token is missing from tokens when a
// near variant is there: surrounding white space, a byte order mark or
// other case. It returns "" otherwise.
func missingHint(tokens []string, special string) string {
	for i, tok := range tokens {
		switch {
		case tok != special && strings.TrimSpace(strings.TrimPrefix(tok, "\uFEFF")) == special:
			return fmt.Sprintf(" (line %d holds %q: the line has white space or a byte order mark around the token)", i+1, tok)
		case strings.EqualFold(tok, special):
			return fmt.Sprintf(" (line %d holds %q, in another case: set the special token names in tokenizer_config.json)", i+1, tok)
		}
	}
	return ""
}
