package ner

// Stats counts a corpus: documents, sentences, words and entities per type.
// Its JSON form is {"documents","sentences","tokens","entities":{TYPE:n}}.
type Stats struct {
	Documents int `json:"documents"`
	Sentences int `json:"sentences"`
	// Tokens counts words (Sentence.Words), not word pieces.
	Tokens int `json:"tokens"`
	// Entities maps each entity type to its number of entities; never nil.
	Entities map[string]int `json:"entities"`
}

// ComputeStats counts c. Entities are read from Sentence.Labels where a
// sentence has them (multi-label corpora: every label of every annotation
// counts, overlapping ones included), else from Sentence.Tags in c.Scheme,
// the conlleval way (see RepairTags). A nil corpus gives zero counts.
func ComputeStats(c *Corpus) Stats {
	st := Stats{Entities: map[string]int{}}
	if c == nil {
		return st
	}
	st.Documents = len(c.Documents)
	for _, d := range c.Documents {
		st.Sentences += len(d.Sentences)
		for _, s := range d.Sentences {
			st.Tokens += len(s.Words)
			if s.Labels != nil {
				for _, l := range labelTypes(s.Labels) {
					for _, e := range readSpans(labelTags(s.Labels, l)) {
						st.Entities[e.Type]++
					}
				}
				continue
			}
			for _, e := range readSpans(s.Tags) {
				st.Entities[e.Type]++
			}
		}
	}
	return st
}

// EntityTotal is the number of entities of all types.
func (s Stats) EntityTotal() int {
	n := 0
	for _, v := range s.Entities {
		n += v
	}
	return n
}

// labelTypes returns the sorted labels occurring in a sentence's Labels.
func labelTypes(labels [][]string) []string {
	seen := typeSet{}
	for _, ls := range labels {
		seen.add(ls)
	}
	return seen.sorted()
}

// labelTags returns the IOB2 tags of one label from a sentence's Labels:
// "B-label"/"I-label" where the word carries it, "O" elsewhere.
func labelTags(labels [][]string, label string) []string {
	out := make([]string, len(labels))
	for i, ls := range labels {
		out[i] = "O"
		for _, t := range ls {
			if p, typ, ok := splitTag(t); ok && typ == label && p != "O" {
				out[i] = t
				break
			}
		}
	}
	return out
}
