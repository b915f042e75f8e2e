package tagger

import (
	"context"
	"fmt"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/nn"
)

// Entity is a decoded mention in original-text code points (end exclusive).
type Entity struct {
	Start, End int
	Type       string
	// Confidence is the span confidence: the smallest CRF posterior marginal of the
	// decoded tags over the span (nn.SpanConfidence).
	Confidence float64
}

// Predict tags documents: encode, batch by length, decode, and map spans back to each
// document's original text. The result has one entity list per document, in order.
func (m *Model) Predict(ctx context.Context, enc *Encoder, docs []corpus.Document, batchSize int) ([][]Entity, error) {
	if batchSize <= 0 {
		batchSize = 32
	}
	var segs []Segment
	encoded := make([]*Encoded, len(docs))
	for i, d := range docs {
		e, err := enc.Encode(d, i, false)
		if err != nil {
			return nil, err
		}
		encoded[i] = e
		segs = append(segs, e.Segments...)
	}
	out := make([][]Entity, len(docs))
	K := m.Cfg.Tags
	for _, idx := range Batches(segs, batchSize, nil) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := MakeBatch(segs, idx)
		if err != nil {
			return nil, err
		}
		dec, err := m.Decode(b)
		if err != nil {
			return nil, err
		}
		for bi, si := range idx {
			seg := &segs[si]
			norm := encoded[seg.Doc].Norm
			marg := dec.Marginals[bi*b.T*K : (bi+1)*b.T*K]
			for _, sp := range enc.Tags.Spans(dec.Paths[bi]) {
				conf, err := nn.SpanConfidence(marg, K, dec.Paths[bi], sp.Start, sp.End)
				if err != nil {
					return nil, fmt.Errorf("tagger: span confidence: %w", err)
				}
				s, e := norm.OriginalRunes(seg.Start+sp.Start, seg.Start+sp.End)
				out[seg.Doc] = append(out[seg.Doc], Entity{Start: s, End: e, Type: sp.Type, Confidence: conf})
			}
		}
	}
	for i := range out {
		sortEntities(out[i])
	}
	return out, nil
}

func sortEntities(es []Entity) {
	for i := 1; i < len(es); i++ { // insertion sort: lists are short and nearly sorted
		for j := i; j > 0 && es[j].Start < es[j-1].Start; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}
