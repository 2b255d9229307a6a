package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteText writes a classification report in the layout of seqeval's
// classification_report (v1.2): one row per type (sorted), a blank line, then
// the micro, macro and weighted averages, with digits decimals (seqeval's
// default is 2; digits < 0 is read as 2).
func (r *Report) WriteText(w io.Writer, digits int) error {
	if digits < 0 {
		digits = 2
	}
	width := utf8.RuneCountInString("weighted avg")
	for _, t := range r.Types {
		width = max(width, utf8.RuneCountInString(t))
	}
	width = max(width, digits)
	b := &strings.Builder{}
	fmt.Fprintf(b, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support")
	row := func(name string, s Scores) {
		fmt.Fprintf(b, "%*s  %9.*f %9.*f %9.*f %9d\n", width, name, digits, s.Precision, digits, s.Recall, digits, s.F1, s.Support)
	}
	for _, t := range r.Types {
		row(t, r.PerType[t])
	}
	b.WriteString("\n")
	row("micro avg", r.Micro)
	row("macro avg", r.Macro)
	row("weighted avg", r.Weighted)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("metrics: write report: %w", err)
	}
	return nil
}

// jsonOverall and jsonType are the JSON schema of a Report.
type jsonOverall struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Accuracy  float64 `json:"accuracy"`
	FoundGold int     `json:"found_gold"`
	FoundPred int     `json:"found_pred"`
	Correct   int     `json:"correct"`
}

type jsonType struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

type jsonReport struct {
	Overall jsonOverall         `json:"overall"`
	PerType map[string]jsonType `json:"per_type"`
}

// MarshalJSON encodes the report as
// {"overall":{"precision","recall","f1","accuracy","found_gold","found_pred","correct"},
// "per_type":{TYPE:{"precision","recall","f1","support"}}}, micro averages,
// fractions in [0, 1].
func (r *Report) MarshalJSON() ([]byte, error) {
	j := jsonReport{
		Overall: jsonOverall{r.Micro.Precision, r.Micro.Recall, r.Micro.F1, r.Accuracy,
			r.Micro.Support, r.Micro.Found, r.Micro.Correct},
		PerType: make(map[string]jsonType, len(r.Types)),
	}
	for _, t := range r.Types {
		s := r.PerType[t]
		j.PerType[t] = jsonType{s.Precision, s.Recall, s.F1, s.Support}
	}
	return json.Marshal(j)
}
