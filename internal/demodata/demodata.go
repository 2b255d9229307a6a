package demodata

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

// Special-token ids of Vocab, the same as mBERT's: [PAD] is 0, [unused1]
// to [unused99] are 1 to 99, then [UNK], [CLS], [SEP] and [MASK].
const (
	PadID  = 0
	UnkID  = 100
	CLSID  = 101
	SEPID  = 102
	MaskID = 103
)

var (
	//go:embed clinical.txt
	clinical string

	//go:embed ner/*.tsv
	nerFiles embed.FS

	//go:embed vocab.txt
	vocab []byte
)

// sampleSentence is also in gen/main.go, which checks that the generated
// data does not contain it.
const sampleSentence = "Paciente refere dor torácica em aperto irradiada para o membro superior esquerdo há 2 dias, nega febre e iniciou ácido acetilsalicílico 100 mg por via oral."

// ClinicalText returns the pretraining text: clinical notes, one sentence a
// line, a blank line between notes.
func ClinicalText() string { return clinical }

// NERFS returns the annotated corpus: the .tsv files at the root of the
// file system, in CLINpt's format (see the package comment).
func NERFS() fs.FS {
	sub, err := fs.Sub(nerFiles, "ner")
	if err != nil { // "ner" is a valid literal path: fs.Sub cannot fail here
		return nerFiles
	}
	return sub
}

// WriteNER writes the first n files of the annotated corpus (all of them
// when n <= 0 or n exceeds them) into dir, creating it, each file atomically,
// and returns their names in order.
func WriteNER(dir string, n int) ([]string, error) {
	fsys := NERFS()
	files, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("demodata: %w", err)
	}
	if n > 0 && n < len(files) {
		files = files[:n]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("demodata: %w", err)
	}
	var names []string
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f.Name())
		if err != nil {
			return nil, fmt.Errorf("demodata: %w", err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.Name()), b); err != nil {
			return nil, fmt.Errorf("demodata: %w", err)
		}
		names = append(names, f.Name())
	}
	return names, nil
}

// Vocab returns the contents of vocab.txt, one WordPiece token a line, the
// line number (from 0) being the id. The slice is a copy the caller may
// change.
func Vocab() []byte { return append([]byte(nil), vocab...) }

// SampleSentence returns a sentence for the tagger demo; it occurs in
// neither ClinicalText nor the NER corpus.
func SampleSentence() string { return sampleSentence }

// EntityTypes returns CLINpt's 13 entity types, the labels of the NER
// corpus: C condition, AS anatomical site, T test, R result, DT date/time,
// CH characteristic, THER therapeutic, EV evolution, N negation, V value,
// OBS observation, RA route of administration, G genetics.
func EntityTypes() []string {
	return []string{"C", "AS", "T", "R", "DT", "CH", "THER", "EV", "N", "V", "OBS", "RA", "G"}
}
