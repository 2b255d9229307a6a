// Command gen writes the embedded demo data of package demodata:
// clinical.txt, ner/*.tsv and vocab.txt. It is deterministic (fixed seeds);
// run it from the repository root after changing a word list or template:
//
//	go run ./examples/internal/demodata/gen -out internal/demodata
//
// Tests do not run it; they check what it wrote.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// sampleSentence must match demodata.SampleSentence: it may not occur in
// the generated data.
const sampleSentence = "Paciente refere dor torácica em aperto irradiada para o membro superior esquerdo há 2 dias, nega febre e iniciou ácido acetilsalicílico 100 mg por via oral."

func main() {
	out := flag.String("out", "internal/demodata", "directory of package demodata")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	docs := nerCorpus(newRNG(6, 1))
	text := clinicalText(newRNG(6, 2))
	for _, d := range docs {
		for _, s := range d.sents {
			if detok(s) == sampleSentence {
				return fmt.Errorf("the sample sentence occurs in the NER corpus")
			}
		}
	}
	if strings.Contains(text, sampleSentence) {
		return fmt.Errorf("the sample sentence occurs in clinical.txt")
	}

	nerDir := filepath.Join(out, "ner")
	old, _ := filepath.Glob(filepath.Join(nerDir, "*.tsv"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(nerDir, 0o755); err != nil {
		return err
	}
	nsent, ntok := 0, 0
	var words []string
	for _, d := range docs {
		var b strings.Builder
		for _, s := range d.sents {
			nsent++
			for _, t := range s {
				ntok++
				words = append(words, t.text)
				fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", t.text, pos(t.text), strings.ToLower(t.text), t.tag)
			}
		}
		if err := os.WriteFile(filepath.Join(nerDir, d.name+".tsv"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, "clinical.txt"), []byte(text), 0o644); err != nil {
		return err
	}
	vocab := buildVocab(text+"\n"+strings.Join(words, " ")+"\n"+sampleSentence, 3000)
	if err := os.WriteFile(filepath.Join(out, "vocab.txt"), []byte(strings.Join(vocab, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("ner: %d files, %d sentences, %d tokens; clinical.txt: %d bytes; vocab: %d entries\n",
		len(docs), nsent, ntok, len(text), len(vocab))
	return nil
}

// document is one NER file.
type document struct {
	name  string
	sents [][]tok
}

// newPatient draws the facts one note keeps fixed.
func newPatient(r *rng) *patient {
	p := &patient{female: r.chance(0.5), age: r.between(19, 92),
		complaint: pick(r, symptoms), diagnosis: pick(r, diseases),
		year: r.between(2016, 2024), month: r.between(1, 12), day: r.between(1, 20)}
	for i := 0; i < r.between(1, 3); i++ {
		p.drugs = append(p.drugs, pick(r, drugs))
	}
	return p
}

// section draws n distinct templates of a section and renders them.
func (c *ctx) section(tpls []string, lo, hi int) [][]tok {
	n := c.r.between(lo, hi)
	idx := c.r.Perm(len(tpls))
	var out [][]tok
	for i := 0; i < n && i < len(idx); i++ {
		out = append(out, c.render(tpls[idx[i]]))
	}
	return out
}

// note renders one clinical note of a random kind.
func note(r *rng) [][]tok {
	c := &ctx{r: r, p: newPatient(r)}
	var s [][]tok
	add := func(x ...[][]tok) {
		for _, y := range x {
			s = append(s, y...)
		}
	}
	switch k := r.IntN(20); {
	case k < 6: // discharge summary
		add([][]tok{c.render("{Resumo de alta hospitalar|Sumário de alta|Resumo de internação} .")},
			c.section(idTemplates, 1, 1), c.section(historyTemplates, 2, 4), c.section(examTemplates, 1, 2),
			c.section(labTemplates, 1, 2), c.section(imagingTemplates, 0, 1), c.section(treatmentTemplates, 1, 2),
			c.section(evolutionTemplates, 1, 2), c.section(planTemplates, 2, 3))
	case k < 11: // progress note
		add([][]tok{c.render("{Evolução médica|Evolução clínica|Evolução da enfermaria} de {date} .")},
			c.section(historyTemplates, 1, 2), c.section(examTemplates, 1, 2), c.section(labTemplates, 0, 2),
			c.section(evolutionTemplates, 1, 2), c.section(treatmentTemplates, 0, 1), c.section(planTemplates, 1, 2))
	case k < 15: // outpatient consultation
		add([][]tok{c.render("{Consulta ambulatorial|Atendimento ambulatorial|Consulta de retorno} em {date} .")},
			c.section(idTemplates, 1, 1), c.section(historyTemplates, 2, 3), c.section(examTemplates, 1, 1),
			c.section(labTemplates, 1, 1), c.section(imagingTemplates, 0, 1), c.section(planTemplates, 2, 2))
	case k < 18: // exam report
		add([][]tok{c.render("Laudo de {img} .")}, c.section(reportTemplates[:7], 2, 4),
			[][]tok{c.render(pick(r, reportTemplates[7:]))})
	default: // prescription
		add([][]tok{c.render("{Prescrição médica|Receituário} de {date} .")}, c.section(rxTemplates, 3, 4),
			c.section(rxTemplates, 1, 2), c.section(planTemplates, 1, 1))
	}
	return s
}

// nerCorpus draws the annotated documents: 96 files, a few of them split
// into parts ("doc07 1", "doc07 2") as CLINpt does.
func nerCorpus(r *rng) []document {
	var docs []document
	for i := 1; len(docs) < 96; i++ {
		var sents [][]tok
		for len(sents) < 9 {
			sents = append(sents, note(r)...)
		}
		name := fmt.Sprintf("doc%02d", i)
		if i%11 == 7 && len(sents) >= 8 {
			h := len(sents) / 2
			docs = append(docs, document{name + " 1", sents[:h]}, document{name + " 2", sents[h:]})
			continue
		}
		docs = append(docs, document{name, sents})
	}
	return docs
}

// clinicalText draws the notes of the pretraining text, one sentence a
// line, a blank line between notes, with the hand-written paragraphs mixed in.
func clinicalText(r *rng) string {
	var b strings.Builder
	free := 0
	for i := 0; b.Len() < 240_000; i++ {
		if i%12 == 5 && free < len(freeNotes) {
			b.WriteString(strings.TrimSpace(freeNotes[free]))
			b.WriteString("\n\n")
			free++
			continue
		}
		for _, s := range note(r) {
			b.WriteString(detok(s))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	for ; free < len(freeNotes); free++ {
		b.WriteString(strings.TrimSpace(freeNotes[free]))
		b.WriteString("\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// detok joins tokens into text: no space before , . : ; and none after "(".
func detok(s []tok) string {
	var b strings.Builder
	for i, t := range s {
		if i > 0 && !strings.Contains(",.:;)!?", t.text) {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// posLexicon gives the part of speech of closed-class words; pos guesses
// the others from their form. The tags are Universal Dependencies tags and
// are synthetic: nothing in the demo uses them.
var posLexicon = map[string]string{}

func init() {
	for _, e := range [][2]string{
		{"DET", "o a os as um uma uns umas este esta esse essa cada"},
		{"ADP", "de em com por para sem ao à às do da dos das no na nos nas pelo pela após desde até entre sob"},
		{"CCONJ", "e ou mas"},
		{"SCONJ", "que se"},
		{"ADV", "não bem mais muito ainda já também hoje ontem anteontem discretamente hemodinamicamente"},
		{"VERB", "refere relata nega negou apresenta apresentou evoluiu evolui mantém informa procurou recebeu " +
			"iniciado prescrito realizada realizado mantido suspenso associado feito optado mostrou evidenciou " +
			"observa-se solicito manter suspender reavaliar retornar queixa-se há programado encaminhado medindo " +
			"iniciou orientado orientada submetido submetida internado internada admitido admitida"},
	} {
		for _, w := range strings.Fields(e[1]) {
			posLexicon[w] = e[0]
		}
	}
}

func pos(w string) string {
	lw := strings.ToLower(w)
	if t, ok := posLexicon[lw]; ok {
		return t
	}
	switch {
	case strings.Contains(",.:;()!?=", w):
		return "PUNCT"
	case w[0] >= '0' && w[0] <= '9':
		return "NUM"
	case strings.Contains(w, "/") || w == "%" || w == "°C":
		return "SYM"
	}
	for _, suf := range []string{"ico", "ica", "al", "oso", "osa", "ivo", "iva", "ado", "ada", "ido", "ida", "ar", "ável", "ível"} {
		if strings.HasSuffix(lw, suf) && len(lw) > len(suf)+3 {
			return "ADJ"
		}
	}
	if w != lw && lw != w && len(w) > 1 && strings.ToUpper(w) == w {
		return "PROPN"
	}
	return "NOUN"
}

// sortedKeys returns m's keys by descending count, then lexically.
func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}
