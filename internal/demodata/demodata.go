package demodata

import (
	"embed"
	"io/fs"
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
