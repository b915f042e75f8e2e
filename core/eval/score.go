package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/bingli/bingli/core/corpus"
)

// Errors returned (wrapped, with the document and entity concerned) by [Score] and
// [Scorer.Add]; test for them with errors.Is.
var (
	// ErrDuplicateID: two gold documents, or two predicted documents, share an ID.
	ErrDuplicateID = errors.New("duplicate document ID")
	// ErrUnknownID: a predicted document has an ID that no gold document has.
	ErrUnknownID = errors.New("predicted document ID not in gold")
	// ErrTextMismatch: a gold and a predicted document with the same ID both have a
	// non-empty text, and the texts differ.
	ErrTextMismatch = errors.New("gold and predicted texts differ")
	// ErrBadEntity: an entity has an empty type, a negative start, an end not after its
	// start, or (when its document's text is known) an end beyond the text.
	ErrBadEntity = errors.New("invalid entity")
)

// Counts holds strict-match counts. Its JSON form adds the derived gold, pred, precision,
// recall and f1 fields.
type Counts struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
}

// Gold is the number of gold entities, TP + FN.
func (c Counts) Gold() int { return c.TP + c.FN }

// Pred is the number of predicted entities, TP + FP.
func (c Counts) Pred() int { return c.TP + c.FP }

// Precision is TP / (TP + FP), or 0 when there are no predictions.
func (c Counts) Precision() float64 { return ratio(c.TP, c.Pred()) }

// Recall is TP / (TP + FN), or 0 when there is no gold.
func (c Counts) Recall() float64 { return ratio(c.TP, c.Gold()) }

// F1 is the harmonic mean of precision and recall, or 0 when both are 0.
func (c Counts) F1() float64 { return f1(c.Precision(), c.Recall()) }

// MarshalJSON writes the counts together with gold, pred, precision, recall and f1.
func (c Counts) MarshalJSON() ([]byte, error) {
	type plain Counts
	return json.Marshal(struct {
		plain
		Gold      int     `json:"gold"`
		Pred      int     `json:"pred"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
	}{plain(c), c.Gold(), c.Pred(), c.Precision(), c.Recall(), c.F1()})
}

func (c *Counts) add(o Counts) {
	c.TP += o.TP
	c.FP += o.FP
	c.FN += o.FN
}

func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Breakdown classifies the unmatched entities (see the package documentation for the
// rules). Fields ending in Gold count unmatched gold entities, fields ending in Pred
// unmatched predictions; Missed is gold-only and Spurious prediction-only.
type Breakdown struct {
	TypeGold         int `json:"type_gold"`
	TypePred         int `json:"type_pred"`
	BoundaryGold     int `json:"boundary_gold"`
	BoundaryPred     int `json:"boundary_pred"`
	BoundaryTypeGold int `json:"boundary_type_gold"`
	BoundaryTypePred int `json:"boundary_type_pred"`
	Missed           int `json:"missed"`
	Spurious         int `json:"spurious"`
}

func (b *Breakdown) add(o Breakdown) {
	b.TypeGold += o.TypeGold
	b.TypePred += o.TypePred
	b.BoundaryGold += o.BoundaryGold
	b.BoundaryPred += o.BoundaryPred
	b.BoundaryTypeGold += o.BoundaryTypeGold
	b.BoundaryTypePred += o.BoundaryTypePred
	b.Missed += o.Missed
	b.Spurious += o.Spurious
}

// errorKind is the class of one unmatched entity, in priority order (lower wins).
type errorKind int

const (
	typeError errorKind = iota
	boundaryError
	boundaryTypeError
	noOverlap // missed (gold) or spurious (prediction)
)

// count records one unmatched entity of the given side and kind.
func (b *Breakdown) count(gold bool, k errorKind) {
	var g, p *int
	switch k {
	case typeError:
		g, p = &b.TypeGold, &b.TypePred
	case boundaryError:
		g, p = &b.BoundaryGold, &b.BoundaryPred
	case boundaryTypeError:
		g, p = &b.BoundaryTypeGold, &b.BoundaryTypePred
	default:
		g, p = &b.Missed, &b.Spurious
	}
	if gold {
		*g++
	} else {
		*p++
	}
}

// classify returns the kind of the unmatched entity e given the unmatched entities of the
// other side.
func classify(e corpus.Entity, others []corpus.Entity) errorKind {
	best := noOverlap
	for _, o := range others {
		switch {
		case o.Start == e.Start && o.End == e.End:
			return typeError
		case o.Start < e.End && e.Start < o.End:
			k := boundaryTypeError
			if o.Type == e.Type {
				k = boundaryError
			}
			best = min(best, k)
		}
	}
	return best
}

// TypeScore is the score of one entity type.
type TypeScore struct {
	Type   string    `json:"type"`
	Counts Counts    `json:"counts"`
	Errors Breakdown `json:"errors"`
}

// Macro holds unweighted means over the types that occur in gold.
type Macro struct {
	Types     int     `json:"types"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// Result is a finished evaluation. Its JSON form adds the macro averages.
type Result struct {
	// Protocol names the evaluation protocol, for example "ccks2017-split5"; Split names
	// the part scored, for example "dev" or "test". Both are labels only, set by the caller.
	Protocol string `json:"protocol,omitempty"`
	Split    string `json:"split,omitempty"`
	// Documents is the number of documents scored; MissingPredictions how many of them
	// had no predicted document ([Score] only) and were scored as having no predictions.
	Documents          int `json:"documents"`
	MissingPredictions int `json:"missing_predictions"`
	// Micro sums the counts over all types, Errors the breakdowns.
	Micro  Counts    `json:"micro"`
	Errors Breakdown `json:"errors"`
	// Types has one entry per type seen in gold or predictions, sorted by gold count
	// (descending), then by name.
	Types []TypeScore `json:"types"`
}

// Macro returns the unweighted means of per-type precision, recall and F1 over the types
// with at least one gold entity.
func (r *Result) Macro() Macro {
	var m Macro
	for _, t := range r.Types {
		if t.Counts.Gold() == 0 {
			continue
		}
		m.Types++
		m.Precision += t.Counts.Precision()
		m.Recall += t.Counts.Recall()
		m.F1 += t.Counts.F1()
	}
	if m.Types > 0 {
		n := float64(m.Types)
		m.Precision /= n
		m.Recall /= n
		m.F1 /= n
	}
	return m
}

// MarshalJSON writes the result with an added "macro" object.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		plain
		Macro Macro `json:"macro"`
	}{plain(r), r.Macro()})
}

// Scorer accumulates strict entity-level counts one document at a time. The zero value is
// ready to use.
type Scorer struct {
	documents int
	missing   int
	types     map[string]*TypeScore
}

// Add scores one document: gold and pred are its gold and predicted entities (duplicates
// count once). It returns an error wrapping [ErrBadEntity], and records nothing, if an
// entity is invalid.
func (s *Scorer) Add(gold, pred []corpus.Entity) error {
	if err := s.add(gold, pred, -1); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}

// add is Add with the document's length in runes known (textLen >= 0) or not (-1).
func (s *Scorer) add(gold, pred []corpus.Entity, textLen int) error {
	goldSet, err := entitySet(gold, textLen, "gold")
	if err != nil {
		return err
	}
	predSet, err := entitySet(pred, textLen, "predicted")
	if err != nil {
		return err
	}
	s.documents++
	var unmatchedGold, unmatchedPred []corpus.Entity
	for e := range goldSet {
		if predSet[e] {
			s.typeScore(e.Type).Counts.TP++
		} else {
			s.typeScore(e.Type).Counts.FN++
			unmatchedGold = append(unmatchedGold, e)
		}
	}
	for e := range predSet {
		if !goldSet[e] {
			s.typeScore(e.Type).Counts.FP++
			unmatchedPred = append(unmatchedPred, e)
		}
	}
	for _, e := range unmatchedGold {
		s.typeScore(e.Type).Errors.count(true, classify(e, unmatchedPred))
	}
	for _, e := range unmatchedPred {
		s.typeScore(e.Type).Errors.count(false, classify(e, unmatchedGold))
	}
	return nil
}

func (s *Scorer) typeScore(typ string) *TypeScore {
	if s.types == nil {
		s.types = make(map[string]*TypeScore)
	}
	t, ok := s.types[typ]
	if !ok {
		t = &TypeScore{Type: typ}
		s.types[typ] = t
	}
	return t
}

// entitySet validates entities and returns them as a set.
func entitySet(es []corpus.Entity, textLen int, side string) (map[corpus.Entity]bool, error) {
	set := make(map[corpus.Entity]bool, len(es))
	for i, e := range es {
		var problem string
		switch {
		case e.Type == "":
			problem = "empty type"
		case e.Start < 0:
			problem = "negative start"
		case e.End <= e.Start:
			problem = "end not after start"
		case textLen >= 0 && e.End > textLen:
			problem = fmt.Sprintf("end beyond text of %d runes", textLen)
		}
		if problem != "" {
			return nil, fmt.Errorf("%s entity %d [%d,%d) %q: %s: %w", side, i, e.Start, e.End, e.Type, problem, ErrBadEntity)
		}
		set[e] = true
	}
	return set, nil
}

// Result returns the scores accumulated so far. The Scorer may go on accumulating; the
// returned Result does not change with it.
func (s *Scorer) Result() *Result {
	r := &Result{Documents: s.documents, MissingPredictions: s.missing, Types: []TypeScore{}}
	for _, t := range s.types {
		r.Types = append(r.Types, *t)
		r.Micro.add(t.Counts)
		r.Errors.add(t.Errors)
	}
	sort.Slice(r.Types, func(i, j int) bool {
		a, b := r.Types[i], r.Types[j]
		if a.Counts.Gold() != b.Counts.Gold() {
			return a.Counts.Gold() > b.Counts.Gold()
		}
		return a.Type < b.Type
	})
	return r
}

// Score pairs predicted documents with gold documents by ID and scores every gold
// document; a gold document with no predicted document counts as one with no predictions
// (see [Result.MissingPredictions]). It returns an error wrapping [ErrDuplicateID] when IDs
// repeat on either side, [ErrUnknownID] when a predicted ID is not in gold,
// [ErrTextMismatch] when paired documents both have texts and they differ, and
// [ErrBadEntity] for an invalid entity (including one that ends beyond its document's
// text, when a text is present).
func Score(gold, pred []corpus.Document) (*Result, error) {
	goldIndex := make(map[string]int, len(gold))
	for i, d := range gold {
		if j, ok := goldIndex[d.ID]; ok {
			return nil, fmt.Errorf("eval: gold documents %d and %d have ID %q: %w", j, i, d.ID, ErrDuplicateID)
		}
		goldIndex[d.ID] = i
	}
	predIndex := make(map[string]int, len(pred))
	for i, d := range pred {
		if j, ok := predIndex[d.ID]; ok {
			return nil, fmt.Errorf("eval: predicted documents %d and %d have ID %q: %w", j, i, d.ID, ErrDuplicateID)
		}
		if _, ok := goldIndex[d.ID]; !ok {
			return nil, fmt.Errorf("eval: predicted document %d, ID %q: %w", i, d.ID, ErrUnknownID)
		}
		predIndex[d.ID] = i
	}
	var s Scorer
	for _, g := range gold {
		text := g.Text
		var entities []corpus.Entity
		if i, ok := predIndex[g.ID]; ok {
			p := pred[i]
			if g.Text != "" && p.Text != "" && g.Text != p.Text {
				return nil, fmt.Errorf("eval: document %q: %w", g.ID, ErrTextMismatch)
			}
			if text == "" {
				text = p.Text
			}
			entities = p.Entities
		} else {
			s.missing++
		}
		textLen := -1
		if text != "" {
			textLen = utf8.RuneCountInString(text)
		}
		if err := s.add(g.Entities, entities, textLen); err != nil {
			return nil, fmt.Errorf("eval: document %q: %w", g.ID, err)
		}
	}
	return s.Result(), nil
}
