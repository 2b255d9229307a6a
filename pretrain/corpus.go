package pretrain

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// CorpusFormat says how a corpus file is cut into documents.
type CorpusFormat int

const (
	// Lines: every non-blank line is one document (one sentence or one note
	// per line, as HF run_mlm reads a text file).
	Lines CorpusFormat = iota
	// Paragraphs: documents are blocks of lines separated by one or more
	// blank lines; each line of a block is one sentence.
	Paragraphs
)

// String returns "lines" or "paragraphs".
func (f CorpusFormat) String() string {
	switch f {
	case Lines:
		return "lines"
	case Paragraphs:
		return "paragraphs"
	}
	return fmt.Sprintf("CorpusFormat(%d)", int(f))
}

// ParseCorpusFormat parses "lines" or "paragraphs".
func ParseCorpusFormat(s string) (CorpusFormat, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lines", "line":
		return Lines, nil
	case "paragraphs", "paragraph", "blocks":
		return Paragraphs, nil
	}
	return 0, fmt.Errorf("pretrain: corpus format %q: want lines or paragraphs", s)
}

// SplitFunc splits a text into sentences and returns their byte ranges
// [start, end) in text. It adapts tokenize.SplitSentences:
//
//	func(s string) [][2]int {
//		var r [][2]int
//		for _, sp := range tokenize.SplitSentences(s) {
//			r = append(r, [2]int{sp.ByteStart, sp.ByteEnd})
//		}
//		return r
//	}
type SplitFunc func(text string) [][2]int

// DefaultMaxLineBytes is the default CorpusOptions.MaxLineBytes (16 MiB).
const DefaultMaxLineBytes = 16 << 20

// CorpusOptions configures ReadCorpus. The zero value reads one document per
// line without sentence splitting.
type CorpusOptions struct {
	// Format: Lines (default) or Paragraphs.
	Format CorpusFormat
	// Split, when not nil, splits each document's text into sentences (raw
	// clinical notes); each sentence becomes one [CLS] … [SEP] sequence. In
	// Paragraphs format the lines of a block are joined with "\n" first.
	// nil: each line is one sentence.
	Split SplitFunc
	// SplitName identifies Split in the cache key (e.g. "tokenize.SplitSentences/v1").
	// Required when Split is set; change it when the splitter's output changes.
	SplitName string
	// MaxLineBytes: longer lines are an error. 0 means DefaultMaxLineBytes.
	MaxLineBytes int
}

// Validate checks the options.
func (o CorpusOptions) Validate() error {
	if o.Format != Lines && o.Format != Paragraphs {
		return fmt.Errorf("pretrain: corpus options: Format %d: want Lines or Paragraphs", int(o.Format))
	}
	if o.Split != nil && o.SplitName == "" {
		return errors.New("pretrain: corpus options: SplitName is required when Split is set (it keys the cache)")
	}
	if o.Split == nil && o.SplitName != "" {
		return fmt.Errorf("pretrain: corpus options: SplitName %q without Split", o.SplitName)
	}
	if o.MaxLineBytes < 0 {
		return fmt.Errorf("pretrain: corpus options: MaxLineBytes %d < 0", o.MaxLineBytes)
	}
	return nil
}

func (o CorpusOptions) maxLine() int {
	if o.MaxLineBytes == 0 {
		return DefaultMaxLineBytes
	}
	return o.MaxLineBytes
}

// Document is one document of a corpus, as ReadCorpus streams it. Its
// strings live only until the callback returns unless the callback keeps them.
type Document struct {
	File      string   // the file it comes from
	Line      int      // 1-based line of its first sentence
	Sentences []string // non-empty, trimmed sentences in reading order
}

// ExpandPaths expands shell globs (filepath.Match syntax) and plain paths
// into a list of regular files, in the order given; the matches of one glob
// are sorted. A directory expands to the regular files directly inside it,
// sorted. A pattern that matches nothing and duplicate files are errors.
func ExpandPaths(patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) error {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fmt.Errorf("pretrain: corpus %s: %w", p, err)
		}
		if seen[abs] {
			return fmt.Errorf("pretrain: corpus %s: listed twice", p)
		}
		seen[abs] = true
		out = append(out, p)
		return nil
	}
	for _, pat := range patterns {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		matches, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("pretrain: corpus pattern %q: %w", pat, err)
		}
		if len(matches) == 0 {
			if _, err := os.Stat(pat); err != nil {
				return nil, fmt.Errorf("pretrain: corpus %q: no such file: %w", pat, err)
			}
			matches = []string{pat}
		}
		sort.Strings(matches)
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				return nil, fmt.Errorf("pretrain: corpus %s: %w", m, err)
			}
			if st.IsDir() {
				ents, err := os.ReadDir(m)
				if err != nil {
					return nil, fmt.Errorf("pretrain: corpus %s: %w", m, err)
				}
				for _, e := range ents {
					if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
						if err := add(filepath.Join(m, e.Name())); err != nil {
							return nil, err
						}
					}
				}
				continue
			}
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("pretrain: corpus %s: not a regular file", m)
			}
			if err := add(m); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("pretrain: corpus: no files given")
	}
	return out, nil
}

// ErrEmptyCorpus is returned (wrapped) when the corpus files hold no text.
var ErrEmptyCorpus = errors.New("empty corpus")

// ReadCorpus streams the documents of files, in order, to fn. Gzip files are
// decompressed transparently (recognised by their magic bytes, whatever
// their name). A UTF-8 byte-order mark at the start of a file and "\r" at
// the end of lines are dropped; surrounding white space is trimmed and blank
// lines separate nothing in Lines format. A NUL byte (binary file) or bytes
// that are not UTF-8 are errors naming the file, line and byte offset
// (offsets of gzip files count decompressed bytes). A corpus without any
// text is an error wrapping ErrEmptyCorpus. An error from fn stops the
// reading and is returned as is. ctx is checked between documents.
func ReadCorpus(ctx context.Context, files []string, opts CorpusOptions, fn func(Document) error) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("pretrain: corpus: no files given")
	}
	var docs int
	count := func(d Document) error {
		docs++
		return fn(d)
	}
	for _, f := range files {
		if err := readFile(ctx, f, opts, count); err != nil {
			return err
		}
	}
	if docs == 0 {
		return fmt.Errorf("pretrain: corpus %s: %w (no text)", strings.Join(files, ", "), ErrEmptyCorpus)
	}
	return nil
}

// callbackError marks an error returned by the user callback, to pass it through unwrapped.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func readFile(ctx context.Context, name string, opts CorpusOptions, fn func(Document) error) (err error) {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("pretrain: corpus: %w", err)
	}
	defer f.Close()
	r, compressed, err := decompress(f, name)
	if err != nil {
		return err
	}
	defer r.Close()
	lr := bufio.NewReaderSize(r, 1<<16)
	maxLine := opts.maxLine()
	var (
		lineNo    int
		offset    int64 // byte offset of the current line
		buf       []byte
		para      []string
		paraStart int
	)
	emit := func(line int, text []string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, err := splitDocument(name, line, text, opts.Split)
		if err != nil || len(d.Sentences) == 0 {
			return err
		}
		if err := fn(d); err != nil {
			return callbackError{err}
		}
		return nil
	}
	where := func() string {
		if compressed {
			return fmt.Sprintf("%s:%d (decompressed byte offset %d)", name, lineNo, offset)
		}
		return fmt.Sprintf("%s:%d (byte offset %d)", name, lineNo, offset)
	}
	defer func() {
		var cb callbackError
		if errors.As(err, &cb) {
			err = cb.err
		}
	}()
	for {
		var rerr error
		buf, rerr = readLine(lr, buf[:0], maxLine)
		if rerr == errLineTooLong {
			lineNo++
			return fmt.Errorf("pretrain: corpus %s: line longer than %d bytes (binary file?)", where(), maxLine)
		}
		if len(buf) == 0 && rerr != nil {
			if rerr != io.EOF {
				lineNo++
				return fmt.Errorf("pretrain: corpus %s: read%s: %w", where(), gzNote(compressed), rerr)
			}
			break
		}
		lineNo++
		line := buf
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if err := checkText(line, name, lineNo, offset+int64(len(buf)-len(line))); err != nil {
			return err
		}
		text := strings.TrimSpace(string(line))
		switch {
		case opts.Format == Lines && text != "":
			if err := emit(lineNo, []string{text}); err != nil {
				return err
			}
		case opts.Format == Paragraphs && text != "":
			if len(para) == 0 {
				paraStart = lineNo
			}
			para = append(para, text)
		case opts.Format == Paragraphs && len(para) > 0:
			if err := emit(paraStart, para); err != nil {
				return err
			}
			para = nil
		}
		offset += int64(len(buf))
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("pretrain: corpus %s: read%s: %w", where(), gzNote(compressed), rerr)
		}
	}
	if len(para) > 0 {
		if err := emit(paraStart, para); err != nil {
			return err
		}
	}
	return nil
}

// decompress returns f's text: gunzipped when f starts with gzip's magic
// bytes (compressed is then true), else f itself.
func decompress(f io.Reader, name string) (r io.ReadCloser, compressed bool, err error) {
	br := bufio.NewReaderSize(f, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, false, fmt.Errorf("pretrain: corpus %s: gzip: %w", name, err)
		}
		return zr, true, nil
	}
	return io.NopCloser(br), false, nil
}

// errLineTooLong is readLine's error for a line over the limit.
var errLineTooLong = errors.New("line too long")

// readLine appends the next line of lr, with its "\n", to buf; the error is
// lr's (io.EOF after a last line without "\n") or errLineTooLong once the
// line exceeds maxLine bytes.
func readLine(lr *bufio.Reader, buf []byte, maxLine int) ([]byte, error) {
	for {
		chunk, err := lr.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return buf, errLineTooLong
		}
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

// checkText rejects a line holding a NUL byte or invalid UTF-8; offset is
// the line's byte offset in the file.
func checkText(line []byte, name string, lineNo int, offset int64) error {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		return fmt.Errorf("pretrain: corpus %s:%d: NUL byte at byte offset %d: binary file, not text", name, lineNo, offset+int64(i))
	}
	if !utf8.Valid(line) {
		i := firstInvalidUTF8(line)
		return fmt.Errorf("pretrain: corpus %s:%d: invalid UTF-8 at byte offset %d (column %d): not a UTF-8 text file", name, lineNo, offset+int64(i), i+1)
	}
	return nil
}

// splitDocument makes the document that starts at line of name from its
// lines text: split into sentences by split when set, else one a line.
func splitDocument(name string, line int, text []string, split SplitFunc) (Document, error) {
	d := Document{File: name, Line: line}
	if split == nil {
		d.Sentences = text
		return d, nil
	}
	joined := strings.Join(text, "\n")
	ranges, err := safeSplit(split, joined)
	if err != nil {
		return d, fmt.Errorf("pretrain: corpus %s:%d: %w", name, line, err)
	}
	for _, r := range ranges {
		if r[0] < 0 || r[1] > len(joined) || r[0] > r[1] {
			return d, fmt.Errorf("pretrain: corpus %s:%d: sentence splitter returned range %v outside [0,%d]", name, line, r, len(joined))
		}
		if s := strings.TrimSpace(joined[r[0]:r[1]]); s != "" {
			d.Sentences = append(d.Sentences, s)
		}
	}
	return d, nil
}

// safeSplit calls a user splitter, turning a panic into an error.
func safeSplit(split SplitFunc, text string) (r [][2]int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sentence splitter panicked: %v", p)
		}
	}()
	return split(text), nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func gzNote(compressed bool) string {
	if compressed {
		return " (gzip)"
	}
	return ""
}
