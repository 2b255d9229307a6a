package main

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// letter names the i-th model of a corpus in significance marks (a, b, …).
func letter(i int) string {
	if i < 26 {
		return string(rune('a' + i))
	}
	return fmt.Sprintf("m%d", i+1)
}

// slug turns a corpus name into a file-name part.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		out = "corpus"
	}
	return out
}

func fmtP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "–"
	case p < 1e-4:
		return "<.0001"
	case p >= 1:
		return "1"
	}
	return strings.TrimPrefix(fmt.Sprintf("%.4f", p), "0")
}

func fmtCI(c CI) string {
	if !c.OK {
		return fmt.Sprintf("%.4f", c.F1)
	}
	return fmt.Sprintf("%.4f [%.4f, %.4f]", c.F1, c.Lower, c.Upper)
}

// mdEscape keeps a name from breaking a Markdown table.
func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// betterThan lists, for model i, the letters of the models it is
// significantly better than by test (wilcoxon or bootstrap).
func (ca *CorpusAnalysis) betterThan(i int, bootstrap bool) []string {
	var out []string
	for _, p := range ca.Pairs {
		sig, delta := p.Sig, p.MeanDelta
		if bootstrap {
			if p.Boot == nil {
				continue
			}
			sig, delta = p.Boot.Sig, p.Boot.Delta
		}
		if !sig {
			continue
		}
		switch {
		case p.A == i && delta > 0:
			out = append(out, letter(p.B))
		case p.B == i && delta < 0:
			out = append(out, letter(p.A))
		}
	}
	return out
}

// markdown renders the report; images maps a corpus to its chart's file
// name ("" for none).
func (a *Analysis) markdown(images map[string]string) string {
	var b strings.Builder
	o := a.Options
	conf := o.Bootstrap.Confidence * 100
	fmt.Fprintf(&b, "# Model comparison\n\n")
	fmt.Fprintf(&b, "F1 is entity-level F1 on each test split as conlleval computes it (micro average for \"micro\"). "+
		"Brackets hold %g%% percentile bootstrap intervals over test sentences (%d resamples, seed %d) where the result "+
		"directory has a predictions file. Significance: P < %g after %s correction.\n\n",
		conf, o.Bootstrap.Samples, o.Bootstrap.Seed, o.Alpha, adjustName(o.Adjust))
	a.writeTable2(&b)
	for _, ca := range a.Per {
		ca.writeTable3(&b)
		fmt.Fprintf(&b, "### Significance — %s\n\n", ca.Corpus)
		ca.writeFriedman(&b, o)
		ca.writePairs(&b, o)
		if img := images[ca.Corpus]; img != "" {
			fmt.Fprintf(&b, "![F1 per entity type — %s](%s)\n\n", ca.Corpus, img)
		}
	}
	return b.String()
}

// writeTable2 writes Table 2: micro F1 per model and corpus.
func (a *Analysis) writeTable2(b *strings.Builder) {
	fmt.Fprintf(b, "## Table 2: micro F1 per model and corpus\n\n")
	fmt.Fprintf(b, "A mark (>b c) after a value: significantly better than those models of the same corpus (paired bootstrap of micro F1). Letters are listed under each corpus below.\n\n")
	b.WriteString("| Model |")
	for _, c := range a.Corpora {
		fmt.Fprintf(b, " %s |", mdEscape(c))
	}
	b.WriteString("\n|---|")
	for range a.Corpora {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, m := range a.Models {
		fmt.Fprintf(b, "| %s |", mdEscape(m))
		for _, ca := range a.Per {
			i := ca.index(m)
			if i < 0 {
				b.WriteString(" – |")
				continue
			}
			cell := fmtCI(ca.Micro[i])
			if i == ca.bestMicro() {
				cell = "**" + cell + "**"
			}
			if bt := ca.betterThan(i, true); len(bt) > 0 {
				cell += " (>" + strings.Join(bt, " ") + ")"
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")

}

// writeTable3 writes Table 3 of one corpus: F1 per entity type and model.
func (ca *CorpusAnalysis) writeTable3(b *strings.Builder) {
	fmt.Fprintf(b, "## Table 3: F1 per entity type — %s\n\n", ca.Corpus)
	b.WriteString("| Entity | Support |")
	for i, r := range ca.Models {
		fmt.Fprintf(b, " (%s) %s |", letter(i), mdEscape(r.Model))
	}
	b.WriteString("\n|---|---:|")
	for range ca.Models {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for j, t := range ca.Types {
		fmt.Fprintf(b, "| %s | %d |", mdEscape(t), ca.support(t))
		best := ca.bestType(j)
		for i := range ca.Models {
			cell := fmtCI(ca.TypeCI[i][j])
			if i == best {
				cell = "**" + cell + "**"
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "| micro | %d |", ca.support(""))
	for i := range ca.Models {
		cell := fmtCI(ca.Micro[i])
		if i == ca.bestMicro() {
			cell = "**" + cell + "**"
		}
		fmt.Fprintf(b, " %s |", cell)
	}
	b.WriteString("\n| better than (Wilcoxon) | |")
	for i := range ca.Models {
		bt := ca.betterThan(i, false)
		if len(bt) == 0 {
			b.WriteString(" – |")
		} else {
			fmt.Fprintf(b, " %s |", strings.Join(bt, " "))
		}
	}
	b.WriteString("\n\n")

}

// writeFriedman writes the Friedman test of one corpus, or why it did not
// run.
func (ca *CorpusAnalysis) writeFriedman(b *strings.Builder, o Options) {
	if ca.Friedman != nil {
		fr := ca.Friedman
		var ranks []string
		for i, r := range fr.MeanRanks {
			ranks = append(ranks, fmt.Sprintf("%s %.2f", letter(i), r))
		}
		verdict := "no significant difference among the models"
		if fr.PValue < o.Alpha {
			verdict = "the models differ"
		}
		pv := "= " + fmtP(fr.PValue)
		if strings.HasPrefix(fmtP(fr.PValue), "<") {
			pv = "< .0001"
		}
		blocks := fmt.Sprintf("%d entity types", fr.N)
		if ca.Blocks != typeBlocks {
			blocks = fmt.Sprintf("%d %s", fr.N, ca.Blocks)
		}
		fmt.Fprintf(b, "Friedman test over %d models × %s: χ²(%d) = %.3f, P %s (%s). Mean ranks (1 = lowest F1): %s.\n\n",
			fr.K, blocks, fr.K-1, fr.Statistic, pv, verdict, strings.Join(ranks, ", "))
	} else {
		fmt.Fprintf(b, "Friedman test: not run (%s).\n\n", ca.FriedmanNote)
	}
}

// writePairs writes the pairwise tests of one corpus: Wilcoxon signed-rank
// and, where predictions were read, the paired bootstrap.
func (ca *CorpusAnalysis) writePairs(b *strings.Builder, o Options) {
	if len(ca.Pairs) == 0 {
		b.WriteString("No pairs of models to compare.\n\n")
	} else {
		over := "the per-type F1"
		if ca.Blocks != typeBlocks {
			over = "the F1 of " + ca.Blocks + ", paired"
		}
		fmt.Fprintf(b, "Wilcoxon signed-rank tests over %s (two-sided), %s-corrected; * marks P < %g.\n\n", over, adjustName(o.Adjust), o.Alpha)
		b.WriteString("| A | B | mean ΔF1 (A−B) | W | P | P adjusted | |\n|---|---|---:|---:|---:|---:|---|\n")
		for _, p := range ca.Pairs {
			mark := ""
			if p.Sig {
				mark = "*"
			} else if p.Note != "" {
				mark = p.Note
			}
			w := "–"
			if !math.IsNaN(p.W) {
				w = fmt.Sprintf("%g", p.W)
			}
			fmt.Fprintf(b, "| (%s) %s | (%s) %s | %+.4f | %s | %s | %s | %s |\n",
				letter(p.A), mdEscape(ca.Models[p.A].Model), letter(p.B), mdEscape(ca.Models[p.B].Model),
				p.MeanDelta, w, fmtP(p.P), fmtP(p.PAdj), mark)
		}
		b.WriteString("\n")
		if ca.hasBoot() {
			fmt.Fprintf(b, "Paired bootstrap of micro F1 (Berg-Kirkpatrick et al. 2012), %s-corrected; * marks P < %g.\n\n", adjustName(o.Adjust), o.Alpha)
			b.WriteString("| A | B | ΔF1 (A−B) | interval | P | P adjusted | |\n|---|---|---:|---:|---:|---:|---|\n")
			for _, p := range ca.Pairs {
				if p.Boot == nil {
					continue
				}
				mark := ""
				if p.Boot.Sig {
					mark = "*"
				}
				fmt.Fprintf(b, "| (%s) %s | (%s) %s | %+.4f | [%+.4f, %+.4f] | %s | %s | %s |\n",
					letter(p.A), mdEscape(ca.Models[p.A].Model), letter(p.B), mdEscape(ca.Models[p.B].Model),
					p.Boot.Delta, p.Boot.Lower, p.Boot.Upper, fmtP(p.Boot.P), fmtP(p.Boot.PAdj), mark)
			}
			b.WriteString("\n")
		}
	}
}

func (ca *CorpusAnalysis) hasBoot() bool {
	for _, p := range ca.Pairs {
		if p.Boot != nil {
			return true
		}
	}
	return false
}

func (ca *CorpusAnalysis) index(model string) int {
	for i, r := range ca.Models {
		if r.Model == model {
			return i
		}
	}
	return -1
}

// support is the gold count of type t ("" = all) in the first report that
// has it (every model of a corpus is tested on the same split).
func (ca *CorpusAnalysis) support(t string) int {
	for _, r := range ca.Models {
		if t == "" {
			if r.Report.Overall.FoundGold > 0 {
				return r.Report.Overall.FoundGold
			}
			continue
		}
		if s, ok := r.Report.PerType[t]; ok && s.Support > 0 {
			return s.Support
		}
	}
	return 0
}

func (ca *CorpusAnalysis) bestMicro() int {
	best := -1
	for i, c := range ca.Micro {
		if best < 0 || c.F1 > ca.Micro[best].F1 {
			best = i
		}
	}
	return best
}

func (ca *CorpusAnalysis) bestType(j int) int {
	best := -1
	for i := range ca.Models {
		if best < 0 || ca.F1[i][j] > ca.F1[best][j] {
			best = i
		}
	}
	return best
}
