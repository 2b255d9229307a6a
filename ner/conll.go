package ner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CoNLLOptions configures ReadCoNLL. The zero value reads the first column
// as the word and the last as an IOB2 tag, strictly.
type CoNLLOptions struct {
	// TokenColumn is the 1-based column of the word; 0 means 1.
	TokenColumn int
	// TagColumn is the 1-based column of the tag; 0 means the last column
	// and negative values count from the end (-1 is the last, -2 the one
	// before it).
	TagColumn int
	// Separator splits a line into columns. "" (default) splits on tabs
	// when the line has one, else on runs of spaces; "\t" means tabs only,
	// so words may contain spaces; any other string splits on that string.
	Separator string
	// Scheme of the tags (default IOB2). Each tag must be "O" or use one of
	// the scheme's prefixes.
	Scheme Scheme
	// Lenient turns format errors into Corpus.Warnings: a line lacking the
	// tag column keeps its word with tag "O", a malformed tag becomes "O", a
	// line lacking the word column and an empty document are skipped.
	Lenient bool
}

// Validate checks the options.
func (o CoNLLOptions) Validate() error {
	if o.TokenColumn < 0 {
		return fmt.Errorf("ner: CoNLLOptions.TokenColumn %d < 0", o.TokenColumn)
	}
	if o.TokenColumn != 0 && o.TagColumn > 0 && o.TokenColumn == o.TagColumn {
		return fmt.Errorf("ner: CoNLLOptions.TokenColumn and TagColumn are both %d", o.TagColumn)
	}
	if o.TokenColumn == 0 && o.TagColumn == 1 {
		return errors.New("ner: CoNLLOptions.TagColumn 1 is the default token column; set TokenColumn")
	}
	return o.Scheme.Validate()
}

// ReadCoNLL reads a CoNLL-style corpus: one word per line with
// whitespace-separated columns, blank lines between sentences, and lines
// whose first column is "-DOCSTART-" starting a new document. path is a
// file, a directory (every regular file below it that does not start with
// ".", in lexical order) or a glob pattern.
//
// Document IDs are the file's path relative to the directory (or its base
// name) without extension; a file with several -DOCSTART- blocks gives
// "<name>#1", "<name>#2", …. Errors name the file and line.
func ReadCoNLL(path string, o CoNLLOptions) (*Corpus, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	files, err := listFiles(path, nil)
	if err != nil {
		return nil, err
	}
	c := &Corpus{Scheme: o.Scheme}
	p := &problems{lenient: o.Lenient}
	for _, f := range files {
		docs, err := readCoNLLFile(f.path, f.id, o, p, &c.Report)
		if err != nil {
			return nil, err
		}
		c.Documents = append(c.Documents, docs...)
		c.Report.Files++
	}
	c.Warnings = p.warnings
	c.Report.Skipped = p.skipped
	if len(c.Documents) == 0 {
		return nil, fmt.Errorf("ner: read %s: no documents", path)
	}
	return c, nil
}

func readCoNLLFile(path, id string, o CoNLLOptions, p *problems, rep *Report) ([]Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ner: read %w", err)
	}
	defer f.Close()
	return parseCoNLL(f, path, id, o, p, rep)
}

// parseCoNLL reads one CoNLL stream; name is used in messages.
func parseCoNLL(r io.Reader, name, id string, o CoNLLOptions, p *problems, rep *Report) ([]Document, error) {
	tokCol := o.TokenColumn
	if tokCol == 0 {
		tokCol = 1
	}
	var (
		docs     []Document
		cur      *Document
		sent     Sentence
		sentLine int
		docLine  = 1
		docstart bool
	)
	newDoc := func() { cur = &Document{Source: name} }
	flushSent := func() {
		if len(sent.Words) == 0 {
			return
		}
		if cur == nil {
			newDoc()
		}
		if n := countInvalid(sent.Tags, o.Scheme); n > 0 {
			rep.InvalidTransitions += n
			p.warn("ner: %s:%d: %d tag(s) invalid in an %v sequence (kept; Corpus.RepairTags fixes them)", name, sentLine, n, o.Scheme)
		}
		cur.Sentences = append(cur.Sentences, sent)
		sent = Sentence{}
	}
	flushDoc := func() error {
		flushSent()
		if cur == nil || len(cur.Sentences) == 0 {
			if docstart || cur != nil {
				if err := p.fail(fmt.Errorf("ner: read %s:%d: empty document", name, docLine)); err != nil {
					return err
				}
			}
			cur = nil
			return nil
		}
		docs = append(docs, *cur)
		cur = nil
		return nil
	}
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("ner: read %s:%d: %w", name, lineNo, rerr)
		}
		if line == "" && rerr == io.EOF {
			break
		}
		line = strings.TrimRight(line, "\r\n")
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if strings.TrimSpace(line) == "" {
			flushSent()
		} else {
			cols := splitColumns(line, o.Separator)
			if cols[0] == "-DOCSTART-" {
				if docstart || cur != nil || len(sent.Words) > 0 {
					if err := flushDoc(); err != nil {
						return nil, err
					}
				}
				docstart = true
				docLine = lineNo
				newDoc()
			} else {
				word, tag, err := pickColumns(cols, tokCol, o.TagColumn)
				if err == nil {
					err = checkTag(tag, o.Scheme)
				}
				if err != nil {
					err = fmt.Errorf("ner: read %s:%d: %w", name, lineNo, err)
					if ferr := p.fail(err); ferr != nil {
						return nil, ferr
					}
					if word == "" {
						continue // nothing to keep
					}
					tag = "O"
				}
				if len(sent.Words) == 0 {
					sentLine = lineNo
				}
				sent.Words = append(sent.Words, word)
				sent.Tags = append(sent.Tags, tag)
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	if err := flushDoc(); err != nil {
		return nil, err
	}
	if len(docs) == 0 && !docstart {
		if err := p.fail(fmt.Errorf("ner: read %s: empty document", name)); err != nil {
			return nil, err
		}
	}
	for i := range docs {
		docs[i].ID = id
		if docstart || len(docs) > 1 {
			docs[i].ID = fmt.Sprintf("%s#%d", id, i+1)
		}
		docs[i].Group = docs[i].ID
	}
	return docs, nil
}

// splitColumns splits a line per CoNLLOptions.Separator.
func splitColumns(line, sep string) []string {
	switch {
	case sep == "" && strings.Contains(line, "\t"):
		return strings.Split(line, "\t")
	case sep == "":
		return strings.Fields(line)
	default:
		return strings.Split(line, sep)
	}
}

// pickColumns returns the word and tag columns (1-based, tag 0 = last,
// negative from the end). word is "" when the word column is missing.
func pickColumns(cols []string, tokCol, tagCol int) (word, tag string, err error) {
	if tokCol <= len(cols) {
		word = cols[tokCol-1]
	}
	ti := tagCol - 1
	switch {
	case tagCol == 0:
		ti = len(cols) - 1
	case tagCol < 0:
		ti = len(cols) + tagCol
	}
	if word == "" {
		return "", "", fmt.Errorf("missing column: no word in column %d of %d", tokCol, len(cols))
	}
	if ti < 0 || ti >= len(cols) || ti == tokCol-1 {
		return word, "", fmt.Errorf("missing column: line has %d column(s), no tag column", len(cols))
	}
	return word, strings.TrimSpace(cols[ti]), nil
}

// WriteCoNLL writes c as a CoNLL file: "-DOCSTART-" and a blank line before
// every document, one "word<TAB>tag" line per word, a blank line after every
// sentence. ReadCoNLL reads it back (words may contain spaces). Only
// Sentence.Tags are written; multi-label Sentence.Labels are not. Words
// containing a tab or a line break, or empty words, cannot be written and
// give an error naming the document and sentence.
func WriteCoNLL(w io.Writer, c *Corpus) error {
	if c == nil {
		return errors.New("ner: write CoNLL: nil corpus")
	}
	bw := bufio.NewWriter(w)
	for _, d := range c.Documents {
		fmt.Fprint(bw, "-DOCSTART-\n\n")
		for si, s := range d.Sentences {
			if len(s.Words) != len(s.Tags) {
				return fmt.Errorf("ner: write CoNLL: document %s sentence %d: %d words but %d tags", d.ID, si+1, len(s.Words), len(s.Tags))
			}
			for i, word := range s.Words {
				if word == "" || strings.ContainsAny(word, "\t\n\r") || strings.ContainsAny(s.Tags[i], "\t\n\r") {
					return fmt.Errorf("ner: write CoNLL: document %s sentence %d word %d: %q/%q cannot be written as a column", d.ID, si+1, i+1, word, s.Tags[i])
				}
				fmt.Fprintf(bw, "%s\t%s\n", word, s.Tags[i])
			}
			fmt.Fprint(bw, "\n")
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ner: write CoNLL: %w", err)
	}
	return nil
}

// sourceFile is one input file and the document ID derived from it.
type sourceFile struct{ path, id string }

// listFiles expands path (a file, a directory walked recursively, or a glob)
// into files sorted by path. exts, when non-nil, keeps only files whose
// lower-cased extension is listed (with dot). IDs are the path relative to
// the directory (base name for files and globs) without extension, with
// forward slashes.
func listFiles(path string, exts []string) ([]sourceFile, error) {
	keep := func(name string) bool {
		base := filepath.Base(name)
		if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "~$") {
			return false
		}
		if exts == nil {
			return true
		}
		ext := strings.ToLower(filepath.Ext(base))
		for _, e := range exts {
			if ext == e {
				return true
			}
		}
		return false
	}
	stripExt := func(p string) string { return strings.TrimSuffix(p, filepath.Ext(p)) }
	var out []sourceFile
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != path && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || !keep(p) {
				return nil
			}
			rel, err := filepath.Rel(path, p)
			if err != nil {
				return err
			}
			out = append(out, sourceFile{path: p, id: filepath.ToSlash(stripExt(rel))})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ner: read %s: %w", path, err)
		}
	case err == nil:
		out = append(out, sourceFile{path: path, id: stripExt(filepath.Base(path))})
	case strings.ContainsAny(path, "*?["):
		matches, gerr := filepath.Glob(path)
		if gerr != nil {
			return nil, fmt.Errorf("ner: read %s: %w", path, gerr)
		}
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() && keep(m) {
				out = append(out, sourceFile{path: m, id: stripExt(filepath.Base(m))})
			}
		}
	default:
		return nil, fmt.Errorf("ner: read %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ner: read %s: no input files", path)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	seen := map[string]string{}
	for _, f := range out {
		if prev, dup := seen[f.id]; dup {
			return nil, fmt.Errorf("ner: read %s: files %s and %s give the same document ID %q", path, prev, f.path, f.id)
		}
		seen[f.id] = f.path
	}
	return out, nil
}
