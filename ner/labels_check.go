package ner

import (
	"fmt"
	"regexp"
)

// hfDefaultLabel matches the names HF gives classes when a config has no
// real id2label.
var hfDefaultLabel = regexp.MustCompile(`^LABEL_[0-9]+$`)

// checkModelLabels reports the first label of a model's id2label that is
// not "O" or a prefix, a dash and a type, or whose prefix is not one of the
// scheme the labels are written in (schemeOfLabels): "X-Y", "B-" without a
// type, or "S-" beside "U-". A model with such a label would decode it as
// no entity at all, silently. The error names the id and the label.
func checkModelLabels(labels []string) error {
	for i, l := range labels {
		if _, _, ok := splitTag(l); !ok {
			hint := ""
			if hfDefaultLabel.MatchString(l) {
				hint = " (HF's placeholder name: the model was saved without real labels)"
			}
			return fmt.Errorf("id2label[%d] %q: want O or <prefix>-<type> such as B-Disorder%s", i, l, hint)
		}
	}
	s := schemeOfLabels(labels)
	for i, l := range labels {
		if err := checkTag(l, s); err != nil {
			return fmt.Errorf("id2label[%d]: %w (the labels' prefixes say %v)", i, err, s)
		}
	}
	return nil
}

// checkCorpusTags reports the first tag of c that is not valid in c.Scheme,
// naming the document, its source file and the sentence and word.
func checkCorpusTags(name string, c *Corpus) error {
	if c == nil {
		return nil
	}
	for _, d := range c.Documents {
		for si, s := range d.Sentences {
			for wi, t := range s.Tags {
				if err := checkTag(t, c.Scheme); err != nil {
					src := ""
					if d.Source != "" {
						src = " (" + d.Source + ")"
					}
					return fmt.Errorf("%s split: document %s%s sentence %d word %d: %w", name, d.ID, src, si+1, wi+1, err)
				}
			}
		}
	}
	return nil
}

// checkSplitTags applies checkCorpusTags to each part of s.
func checkSplitTags(s Split) error {
	for _, p := range []struct {
		name string
		c    *Corpus
	}{{"train", s.Train}, {"dev", s.Dev}, {"test", s.Test}} {
		if err := checkCorpusTags(p.name, p.c); err != nil {
			return err
		}
	}
	return nil
}
