package tagger

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/lexicon"
)

// TagSet is the BIO label set of one schema: "O", then "B-T" and "I-T" for each entity type T
// in the schema's order. Label ids are positions in Labels.
type TagSet struct {
	Labels []string
	index  map[string]int32
}

// NewTagSet returns the BIO tag set of the given entity types.
func NewTagSet(types []string) (*TagSet, error) {
	ts := &TagSet{Labels: []string{"O"}, index: map[string]int32{"O": 0}}
	for _, t := range types {
		if t == "" || strings.ContainsAny(t, " \t\n") {
			return nil, fmt.Errorf("tagger: bad entity type %q", t)
		}
		for _, l := range []string{"B-" + t, "I-" + t} {
			if _, dup := ts.index[l]; dup {
				return nil, fmt.Errorf("tagger: entity type %q listed twice", t)
			}
			ts.index[l] = int32(len(ts.Labels))
			ts.Labels = append(ts.Labels, l)
		}
	}
	return ts, nil
}

// TagSetFromLabels rebuilds a tag set from its labels (as stored in a bundle).
func TagSetFromLabels(labels []string) (*TagSet, error) {
	if len(labels) == 0 || labels[0] != "O" || len(labels)%2 != 1 {
		return nil, fmt.Errorf("tagger: labels %q are not O followed by B-/I- pairs", labels)
	}
	var types []string
	for i := 1; i < len(labels); i += 2 {
		t, ok := strings.CutPrefix(labels[i], "B-")
		if !ok || labels[i+1] != "I-"+t {
			return nil, fmt.Errorf("tagger: labels %q, %q are not a B-/I- pair", labels[i], labels[i+1])
		}
		types = append(types, t)
	}
	return NewTagSet(types)
}

// Len is the number of labels.
func (ts *TagSet) Len() int { return len(ts.Labels) }

// Types returns the entity types in order.
func (ts *TagSet) Types() []string {
	var out []string
	for i := 1; i < len(ts.Labels); i += 2 {
		out = append(out, ts.Labels[i][2:])
	}
	return out
}

// ID returns the id of a label.
func (ts *TagSet) ID(label string) (int32, bool) {
	id, ok := ts.index[label]
	return id, ok
}

// Span is an entity decoded from a tag path, in the path's positions (end exclusive).
type Span struct {
	Start, End int
	Type       string
}

// Spans decodes a BIO path: B-T starts an entity, following I-T continue it. An I-T that
// does not continue an entity of its type starts one (a constrained CRF never emits it).
func (ts *TagSet) Spans(path []int32) []Span {
	var out []Span
	cur := -1 // index in out of the open entity
	for i, id := range path {
		if id <= 0 || int(id) >= len(ts.Labels) {
			cur = -1
			continue
		}
		typ := ts.Labels[id][2:]
		inside := id%2 == 0
		if inside && cur >= 0 && out[cur].Type == typ && out[cur].End == i {
			out[cur].End = i + 1
			continue
		}
		out = append(out, Span{Start: i, End: i + 1, Type: typ})
		cur = len(out) - 1
	}
	return out
}

// Segment is one piece (at most Encoder.MaxLen runes) of a normalised document.
type Segment struct {
	Doc   int                 // index of the document it came from
	Start int                 // rune offset of the piece in the document's normalised text
	Chars []int32             // vocabulary ids
	Dict  []uint8             // dictionary BIO-type feature ids (lexicon.Feature), nil without a dictionary
	Match []lexicon.MatchBits // dictionary match features, nil unless Encoder.Match
	Tags  []int32             // gold tag ids, nil when unlabelled
}

// Len is the number of characters.
func (s *Segment) Len() int { return len(s.Chars) }

// Encoder turns documents into segments: normalisation, sentence splitting, character ids,
// dictionary features (bidirectional maximum matching over the whole document) and gold tags.
type Encoder struct {
	Vocab  *text.Vocab
	Dict   *lexicon.Dictionary // nil: no dictionary features
	Match  bool                // also compute the "all matches" features (needs Dict)
	Tags   *TagSet
	MaxLen int // maximum segment length in runes (the sentence splitter's limit)
}

// Encoded is one document after encoding.
type Encoded struct {
	Norm     *text.Normalized
	Segments []Segment
	// Nested counts gold entities dropped because they nest in or overlap another (the BIO
	// rule keeps the outermost); Lost counts gold entities that vanish under normalisation
	// (whitespace-only); Unknown counts gold entities whose type is not in the tag set;
	// Split counts entities cut by a segment boundary (the part after it starts with B-).
	Nested, Lost, Unknown, Split int
}

// Encode encodes doc (as document number docIndex). With gold set, its entities become tags.
func (e *Encoder) Encode(doc corpus.Document, docIndex int, gold bool) (*Encoded, error) {
	if e.Vocab == nil || e.Tags == nil || e.MaxLen <= 0 {
		return nil, fmt.Errorf("tagger: encoder needs a vocabulary, a tag set and a positive MaxLen")
	}
	norm, err := text.Normalize(doc.Text, text.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("document %s: %w", doc.ID, err)
	}
	out := &Encoded{Norm: norm}
	n := len(norm.Runes)
	chars := make([]int32, n)
	for i, r := range norm.Runes {
		chars[i] = int32(e.Vocab.ID(r))
	}
	if e.Match && e.Dict == nil {
		return nil, fmt.Errorf("tagger: match features need a dictionary")
	}
	var feats []lexicon.Feature
	var match []lexicon.MatchBits
	if e.Dict != nil {
		feats = e.Dict.Features(norm.Runes)
		if e.Match {
			match = e.Dict.MatchFeatures(norm.Runes)
		}
	}
	var tags []int32
	if gold {
		nd := corpus.Document{ID: doc.ID, Text: norm.Text}
		for _, en := range doc.Entities {
			if _, ok := e.Tags.ID("B-" + en.Type); !ok {
				out.Unknown++
				continue
			}
			s, t := norm.ToNormalized(en.Start, en.End)
			if s >= t {
				out.Lost++
				continue
			}
			nd.Entities = append(nd.Entities, corpus.Entity{Start: s, End: t, Type: en.Type})
		}
		labels, dropped := corpus.ToBIO(nd)
		out.Nested = dropped
		tags = make([]int32, n)
		for i, l := range labels {
			id, ok := e.Tags.ID(l)
			if !ok {
				return nil, fmt.Errorf("document %s: label %q not in the tag set", doc.ID, l)
			}
			tags[i] = id
		}
	}
	for _, p := range text.SplitSentences(norm.Runes, e.MaxLen) {
		seg := Segment{Doc: docIndex, Start: p.Start, Chars: chars[p.Start:p.End]}
		if feats != nil {
			seg.Dict = make([]uint8, p.End-p.Start)
			for i, f := range feats[p.Start:p.End] {
				seg.Dict[i] = uint8(f)
			}
		}
		if match != nil {
			seg.Match = match[p.Start:p.End:p.End]
		}
		if tags != nil {
			seg.Tags = slices.Clone(tags[p.Start:p.End])
			if id := seg.Tags[0]; id > 0 && id%2 == 0 { // starts inside an entity
				seg.Tags[0] = id - 1
				out.Split++
			}
		}
		out.Segments = append(out.Segments, seg)
	}
	return out, nil
}

// Batches groups segment indices into batches of similar length (fewer padded positions):
// segments are sorted by length, cut into runs of batchSize, and, when rng is non-nil, the
// order of the batches is shuffled (and ties in length broken randomly).
func Batches(segs []Segment, batchSize int, rng *rand.Rand) [][]int {
	idx := make([]int, len(segs))
	for i := range idx {
		idx[i] = i
	}
	if rng != nil {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	slices.SortStableFunc(idx, func(a, b int) int { return segs[a].Len() - segs[b].Len() })
	var out [][]int
	for i := 0; i < len(idx); i += batchSize {
		out = append(out, idx[i:min(i+batchSize, len(idx))])
	}
	if rng != nil {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}
