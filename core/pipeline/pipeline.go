// Package pipeline composes bingli's stages into taggers: text normalisation (with its
// offset map) → dictionary features / models → entities on the caller's original text.
// It is the one place the stages meet; the CLI, the server and the browser call it.
//
// Every Entity it returns carries code-point offsets into the text the caller passed in,
// end exclusive, whatever normalisation ran inside.
package pipeline

import (
	"fmt"

	"github.com/bingli/bingli/core/text"
)

// Entity is one tagged mention, as the `bingli tag` JSON-lines contract prints it.
type Entity struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Type  string `json:"type"`
	Text  string `json:"text"`
	// Confidence is the tagger's probability for the mention, in [0, 1]. The dictionary
	// tagger has no probability model and reports 1 for every match.
	Confidence float64 `json:"confidence"`
}

// Tagger finds entities of one schema in a text.
type Tagger interface {
	// Schema is the dataset schema whose labels Tag returns (e.g. "yidu").
	Schema() string
	// Tag returns the entities of s in order of start, with original-text offsets.
	Tag(s string) ([]Entity, error)
}

// NormalizeOptions is the normalisation every tagger and every dictionary term goes through,
// so that terms and text meet in the same form.
func NormalizeOptions() text.Options { return text.DefaultOptions() }

// NormalizeTerm normalises a dictionary term the way text is normalised before matching.
// Invalid UTF-8 yields the empty string, which the dictionary builder refuses.
func NormalizeTerm(s string) string {
	n, err := text.Normalize(s, NormalizeOptions())
	if err != nil {
		return ""
	}
	return n.Text
}

// entityFrom maps a span [start, end) on normalised text back to the original.
func entityFrom(n *text.Normalized, original []rune, start, end int, typ string, conf float64) (Entity, error) {
	os, oe := n.OriginalRunes(start, end)
	if os < 0 || oe > len(original) || os >= oe {
		return Entity{}, fmt.Errorf("pipeline: span [%d,%d) maps outside the original text", start, end)
	}
	return Entity{Start: os, End: oe, Type: typ, Text: string(original[os:oe]), Confidence: conf}, nil
}
