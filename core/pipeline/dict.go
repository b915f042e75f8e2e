package pipeline

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/lexicon"
)

// DictTagger is the dictionary-only tagger: bidirectional maximum matching of the medical
// dictionary over normalised text, each match labelled with the schema's type for its
// canonical dictionary type (matches whose type the schema lacks are left out). It is the
// floor every learned model must beat.
type DictTagger struct {
	dict   *lexicon.Dictionary
	schema *lexicon.SchemaMap
}

// NewDictTagger returns a dictionary tagger for the named schema (see lexicon.SchemaNames).
func NewDictTagger(d *lexicon.Dictionary, schema string) (*DictTagger, error) {
	if d == nil {
		return nil, errors.New("pipeline: nil dictionary")
	}
	m, err := lexicon.Schema(schema)
	if err != nil {
		return nil, err
	}
	return &DictTagger{dict: d, schema: m}, nil
}

// Schema returns the schema name.
func (t *DictTagger) Schema() string { return t.schema.Name() }

// Tag implements Tagger. It fails only on invalid UTF-8.
func (t *DictTagger) Tag(s string) ([]Entity, error) {
	n, err := text.Normalize(s, NormalizeOptions())
	if err != nil {
		return nil, err
	}
	original := []rune(s)
	matches := t.dict.Segment(n.Runes, lexicon.Bidirectional)
	out := make([]Entity, 0, len(matches))
	for _, m := range matches {
		label, ok := t.schema.Label(m.Type, n.Runes[m.Start:m.End])
		if !ok {
			continue
		}
		e, err := entityFrom(n, original, m.Start, m.End, label, 1)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// DictionarySource says what a dictionary is built from.
type DictionarySource struct {
	// Lists is the folder of the staged term lists (shared/data/lexicon); nil for none.
	Lists fs.FS
	// IncludeChineseBLUE also loads the ChineseBLUE entity list, which derives from Yidu-S4K
	// training texts; never set it for anything scored under yidu-train-dev.
	IncludeChineseBLUE bool
	// Annotations are documents whose entities become dictionary terms, with the schema
	// their labels belong to. Only ever training documents.
	Annotations []AnnotatedSet
}

// AnnotatedSet is a set of training documents of one schema, named for the dictionary's
// source table (e.g. "ccks2017-split5/train").
type AnnotatedSet struct {
	Name   string
	Schema string
	Docs   []corpus.Document
}

// BuildReport summarises a dictionary build.
type BuildReport struct {
	Lists    []lexicon.LoadReport
	Mentions map[string]int // annotated mentions added as terms, per set
	Skipped  map[string]int // annotations whose label has no canonical type, per set
}

// BuildDictionary builds a dictionary from term lists and training annotations.
func BuildDictionary(src DictionarySource) (*lexicon.Dictionary, *BuildReport, error) {
	b := lexicon.NewBuilder(NormalizeTerm)
	rep := &BuildReport{Mentions: map[string]int{}, Skipped: map[string]int{}}
	if src.Lists != nil {
		lists, err := b.LoadDefault(src.Lists, lexicon.DefaultOptions{IncludeChineseBLUE: src.IncludeChineseBLUE})
		if err != nil {
			return nil, nil, fmt.Errorf("loading term lists: %w", err)
		}
		rep.Lists = lists
	}
	for _, set := range src.Annotations {
		m, err := lexicon.Schema(set.Schema)
		if err != nil {
			return nil, nil, fmt.Errorf("annotations %s: %w", set.Name, err)
		}
		for _, d := range set.Docs {
			runes := []rune(d.Text)
			for _, e := range d.Entities {
				t, ok := m.Canonical(e.Type)
				if !ok || e.Start < 0 || e.End > len(runes) || e.Start >= e.End {
					rep.Skipped[set.Name]++
					continue
				}
				added, err := b.Add(string(runes[e.Start:e.End]), t, set.Name)
				if err != nil {
					return nil, nil, fmt.Errorf("annotations %s, document %s: %w", set.Name, d.ID, err)
				}
				if added {
					rep.Mentions[set.Name]++
				} else {
					rep.Skipped[set.Name]++
				}
			}
		}
	}
	d, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	return d, rep, nil
}
