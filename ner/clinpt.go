package ner

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/xuri/excelize/v2"
)

// CLINptTypes returns the 13 CLINpt entity types (Lopes et al. 2019):
// C (condition), AS (anatomical site), T (test), R (result), DT (date/time),
// CH (characterization), THER (therapeutics), EV (evolution), N (negation),
// V (value), OBS (observation), RA (route of administration), G (genetics).
func CLINptTypes() []string {
	return []string{"C", "AS", "T", "R", "DT", "CH", "THER", "EV", "N", "V", "OBS", "RA", "G"}
}

// CLINptOptions configures ReadCLINpt. The zero value reads the first sheet
// of every workbook strictly, accepting only the 13 CLINpt types.
type CLINptOptions struct {
	// Sheet names the worksheet to read; "" means the workbook's first one.
	Sheet string
	// AllowAnyType accepts any entity type in B-/I- tags, not only
	// CLINptTypes.
	AllowAnyType bool
	// GroupBy maps a document ID to its Group; nil means CLINptGroup.
	GroupBy func(id string) string
	// Lenient turns format errors into Corpus.Warnings: a row with a
	// missing or invalid tag keeps its token tagged "O", a row without a
	// token is skipped, an empty document is skipped.
	Lenient bool
}

// Validate checks the options (every combination is valid).
func (o CLINptOptions) Validate() error { return nil }

// partSuffix matches a trailing " <digits>" part number; pageSuffix a page
// number, " pag <digits>" or " pagina <digits>", which is not a part number.
var (
	partSuffix = regexp.MustCompile(` +[0-9]+$`)
	pageSuffix = regexp.MustCompile(`(?i)(^|\s)(pag|pág|pagina|página)\.? +[0-9]+$`)
)

// CLINptGroup returns the text a CLINpt file belongs to: its name minus a
// trailing part number " <digits>", unless those digits are a page number
// (preceded by "pag" or "pagina"). So "CO15 1" and "CO15 2" form group
// "CO15", "P14 pag 186 2" joins "P14 pag 186", "Texto 2 pag 85 1" joins
// "Texto 2 pag 85", while "P14 pag 186" and "CC6" are groups of their own.
// Only the last path element is examined; a directory prefix is kept.
func CLINptGroup(id string) string {
	if pageSuffix.MatchString(id) {
		return id
	}
	if loc := partSuffix.FindStringIndex(id); loc != nil && loc[0] > 0 {
		base := id[:loc[0]]
		if !strings.HasSuffix(base, "/") {
			return base
		}
	}
	return id
}

// ReadCLINpt reads the CLINpt corpus: path is a directory (read
// recursively) or one file. Each spreadsheet (.xlsx) is one document with
// the columns token, POS, lemma and tag (IOB2 over CLINptTypes); the same
// four columns are also read from tab-separated text (.tsv, .txt) and CSV
// (.csv) files. Cells are read as Excel displays them (numbers formatted,
// formulas by their cached or, failing that, computed value). A first row
// naming its columns (token/word/palavra … tag/label/ner/entity) is a
// header and may reorder the token and tag columns.
//
// Sentences end at an empty row; otherwise a token made only of ".", "!"
// and "?" ends its sentence, unless the next row's tag starts with "I-" (the
// entity continues). Tokens are kept exactly as read, including control
// characters (CC6.xlsx has U+0096, which a BERT tokenizer deletes).
//
// Documents part of one text share a Group (see CLINptGroup) and are never
// split apart by Split and KFold.
func ReadCLINpt(path string, o CLINptOptions) (*Corpus, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	files, err := listFiles(path, []string{".xlsx", ".tsv", ".txt", ".csv"})
	if err != nil {
		return nil, err
	}
	group := o.GroupBy
	if group == nil {
		group = CLINptGroup
	}
	types := map[string]bool{}
	for _, t := range CLINptTypes() {
		types[t] = true
	}
	c := &Corpus{Scheme: IOB2}
	p := &problems{lenient: o.Lenient}
	for _, f := range files {
		rows, err := readTable(f.path, o.Sheet)
		if err != nil {
			return nil, err
		}
		c.Report.Files++
		d, err := clinptDocument(f.path, rows, o, types, p, &c.Report)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue
		}
		d.ID = f.id
		d.Group = group(f.id)
		c.Documents = append(c.Documents, *d)
	}
	c.Warnings = p.warnings
	c.Report.Skipped = p.skipped
	if len(c.Documents) == 0 {
		return nil, fmt.Errorf("ner: read %s: no documents", path)
	}
	return c, nil
}

// tableRow is one row of a spreadsheet or text table and its 1-based line.
type tableRow struct {
	line  int
	cells []string
}

// readTable reads the rows of an .xlsx sheet or a .tsv/.txt/.csv file.
func readTable(path, sheet string) ([]tableRow, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx":
		return readXLSX(path, sheet)
	case ".csv":
		return readCSV(path)
	default:
		return readTSV(path)
	}
}

func readXLSX(path, sheet string) (rows []tableRow, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("ner: read %s: excelize: %v", path, r)
		}
	}()
	f, err := excelize.OpenFile(path)
	if err != nil {
		return nil, fmt.Errorf("ner: read %s: %w", path, err)
	}
	defer f.Close()
	if sheet == "" {
		list := f.GetSheetList()
		if len(list) == 0 {
			return nil, fmt.Errorf("ner: read %s: workbook has no sheets", path)
		}
		sheet = list[0]
	}
	cells, err := f.GetRows(sheet)
	if err != nil {
		return nil, fmt.Errorf("ner: read %s sheet %q: %w", path, sheet, err)
	}
	for i, r := range cells {
		for j := range r {
			if r[j] != "" {
				continue
			}
			// An empty displayed value may be a formula without a cached
			// result (files written by programs): compute it.
			ax, cerr := excelize.CoordinatesToCellName(j+1, i+1)
			if cerr != nil {
				continue
			}
			if fo, _ := f.GetCellFormula(sheet, ax); fo != "" {
				v, cerr := f.CalcCellValue(sheet, ax)
				if cerr != nil {
					return nil, fmt.Errorf("ner: read %s sheet %q cell %s: formula %q: %w", path, sheet, ax, fo, cerr)
				}
				r[j] = v
			}
		}
		rows = append(rows, tableRow{line: i + 1, cells: r})
	}
	return rows, nil
}

func readTSV(path string) ([]tableRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ner: read %w", err)
	}
	defer f.Close()
	var rows []tableRow
	br := bufio.NewReader(f)
	for line := 1; ; line++ {
		s, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("ner: read %s:%d: %w", path, line, rerr)
		}
		if s == "" && rerr == io.EOF {
			break
		}
		s = strings.TrimRight(s, "\r\n")
		if line == 1 {
			s = strings.TrimPrefix(s, "\uFEFF")
		}
		rows = append(rows, tableRow{line: line, cells: strings.Split(s, "\t")})
		if rerr == io.EOF {
			break
		}
	}
	return rows, nil
}

func readCSV(path string) ([]tableRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ner: read %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var rows []tableRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ner: read %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rows) == 0 && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
		}
		rows = append(rows, tableRow{line: line, cells: rec})
	}
	return rows, nil
}

var (
	tokenHeaders = map[string]bool{"token": true, "tokens": true, "word": true, "words": true, "palavra": true, "forma": true, "form": true}
	tagHeaders   = map[string]bool{"tag": true, "tags": true, "label": true, "labels": true, "ner": true, "entity": true, "entidade": true, "etiqueta": true, "iob": true, "bio": true}
)

func blankRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// sentenceFinal reports whether a token is made only of '.', '!' and '?'.
func sentenceFinal(tok string) bool {
	return tok != "" && strings.Trim(tok, ".!?") == ""
}

// clinptDocument turns the rows of one file into a document; nil (and no
// error) when a lenient reader skipped an empty document.
func clinptDocument(path string, rows []tableRow, o CLINptOptions, types map[string]bool, p *problems, rep *Report) (*Document, error) {
	tokCol, tagCol := 0, 3
	// Header: the first non-blank row, when it names its columns.
	for i, r := range rows {
		if blankRow(r.cells) {
			continue
		}
		tc, gc := -1, -1
		for j, c := range r.cells {
			h := strings.ToLower(strings.TrimSpace(c))
			if tokenHeaders[h] && tc < 0 {
				tc = j
			}
			if tagHeaders[h] && gc < 0 {
				gc = j
			}
		}
		if tc >= 0 || gc >= 0 {
			if tc >= 0 {
				tokCol = tc
			}
			if gc >= 0 {
				tagCol = gc
			}
			rows = rows[i+1:]
		}
		break
	}
	d := &Document{Source: path}
	var sent Sentence
	sentLine := 0
	flush := func() {
		if len(sent.Words) == 0 {
			return
		}
		if n := countInvalid(sent.Tags, IOB2); n > 0 {
			rep.InvalidTransitions += n
			p.warn("ner: %s:%d: %d tag(s) invalid in an IOB2 sequence (kept; Corpus.RepairTags fixes them)", path, sentLine, n)
		}
		d.Sentences = append(d.Sentences, sent)
		sent = Sentence{}
	}
	cell := func(r tableRow, j int) string {
		if j < len(r.cells) {
			return r.cells[j]
		}
		return ""
	}
	for i, r := range rows {
		if blankRow(r.cells) {
			flush()
			continue
		}
		tok := cell(r, tokCol)
		tag := strings.TrimSpace(cell(r, tagCol))
		if strings.TrimSpace(tok) == "" {
			if err := p.fail(fmt.Errorf("ner: read %s:%d: missing column: no token in column %d", path, r.line, tokCol+1)); err != nil {
				return nil, err
			}
			continue
		}
		var bad error
		switch {
		case tag == "":
			bad = fmt.Errorf("missing column: no tag in column %d (want token, POS, lemma, tag)", tagCol+1)
		default:
			bad = clinptCheckTag(tag, types, o.AllowAnyType)
		}
		if bad != nil {
			if err := p.fail(fmt.Errorf("ner: read %s:%d: %w", path, r.line, bad)); err != nil {
				return nil, err
			}
			tag = "O"
		}
		if len(sent.Words) == 0 {
			sentLine = r.line
		}
		sent.Words = append(sent.Words, tok)
		sent.Tags = append(sent.Tags, tag)
		if sentenceFinal(strings.TrimSpace(tok)) && !nextIsInside(rows[i+1:], tagCol) {
			flush()
		}
	}
	flush()
	if len(d.Sentences) == 0 {
		if err := p.fail(fmt.Errorf("ner: read %s: empty document", path)); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return d, nil
}

// nextIsInside reports whether the next non-blank row's tag starts with I-
// (a blank row ends the sentence anyway).
func nextIsInside(rows []tableRow, tagCol int) bool {
	if len(rows) == 0 || blankRow(rows[0].cells) || tagCol >= len(rows[0].cells) {
		return false
	}
	return strings.HasPrefix(strings.TrimSpace(rows[0].cells[tagCol]), "I-")
}

// clinptCheckTag accepts O, B-T and I-T with T a CLINpt type (any type when
// anyType).
func clinptCheckTag(tag string, types map[string]bool, anyType bool) error {
	p, typ, ok := splitTag(tag)
	if !ok || (p != "O" && p != "B" && p != "I") {
		return fmt.Errorf("unknown tag %q (want O, B-<type> or I-<type>)", tag)
	}
	if p != "O" && !anyType && !types[typ] {
		return fmt.Errorf("unknown tag %q: type %q is not a CLINpt type (%s)", tag, typ, strings.Join(CLINptTypes(), ", "))
	}
	return nil
}
