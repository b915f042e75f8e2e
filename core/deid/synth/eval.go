package synth

import (
	"fmt"
	"io"

	"github.com/bingli/bingli/core/deid"
)

// CategoryScore is one category's benchmark result.
type CategoryScore struct {
	Gold       int `json:"gold"`        // injected values
	Found      int `json:"found"`       // covered by detections of their category
	Masked     int `json:"masked"`      // covered by detections of any category
	Detected   int `json:"detected"`    // detections overlapping an injected snippet
	Correct    int `json:"correct"`     // of those, overlapping gold of their category
	OutsideDet int `json:"outside_det"` // detections on the original text (not judged)
}

// Recall is Found/Gold; Precision is Correct/Detected (1 when nothing was detected).
func (c CategoryScore) Recall() float64    { return ratio(c.Found, c.Gold) }
func (c CategoryScore) Precision() float64 { return ratio(c.Correct, c.Detected) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Report is the benchmark result.
type Report struct {
	Docs         int                             `json:"docs"`
	PerCategory  map[deid.Category]CategoryScore `json:"per_category"`
	MedicalRunes int                             `json:"medical_runes"`
	FalseMasked  int                             `json:"false_masked"`
}

// FalseMaskingRate is the share of gold medical-entity runes inside a detection.
func (r *Report) FalseMaskingRate() float64 {
	if r.MedicalRunes == 0 {
		return 0
	}
	return float64(r.FalseMasked) / float64(r.MedicalRunes)
}

// Evaluate scores pred[i] (the detections on docs[i].Text) as the package doc describes.
func Evaluate(docs []Doc, pred [][]deid.Span) (*Report, error) {
	if len(docs) != len(pred) {
		return nil, fmt.Errorf("synth: %d documents but %d detection lists", len(docs), len(pred))
	}
	r := &Report{Docs: len(docs), PerCategory: map[deid.Category]CategoryScore{}}
	for i, d := range docs {
		n := len([]rune(d.Text))
		cat := make([]deid.Category, n) // detected category per rune ("" = none)
		for _, s := range pred[i] {
			if s.Start < 0 || s.End > n {
				return nil, fmt.Errorf("synth: %s: detection [%d, %d) outside the text", d.ID, s.Start, s.End)
			}
			for p := s.Start; p < s.End; p++ {
				cat[p] = s.Category
			}
		}
		for _, g := range d.PHI {
			cs := r.PerCategory[g.Category]
			cs.Gold++
			same, covered := true, true
			for p := g.Start; p < g.End; p++ {
				same = same && cat[p] == g.Category
				covered = covered && cat[p] != ""
			}
			if same {
				cs.Found++
			}
			if covered {
				cs.Masked++
			}
			r.PerCategory[g.Category] = cs
		}
		for _, s := range pred[i] {
			cs := r.PerCategory[s.Category]
			if !overlapsAny(d.Injected, s.Start, s.End) {
				cs.OutsideDet++
				r.PerCategory[s.Category] = cs
				continue
			}
			cs.Detected++
			for _, g := range d.PHI {
				if g.Category == s.Category && g.Start < s.End && s.Start < g.End {
					cs.Correct++
					break
				}
			}
			r.PerCategory[s.Category] = cs
		}
		med := make([]bool, n)
		for _, e := range d.Entities {
			for p := e.Start; p < e.End && p < n; p++ {
				med[p] = true
			}
		}
		for p, m := range med {
			if m {
				r.MedicalRunes++
				if cat[p] != "" {
					r.FalseMasked++
				}
			}
		}
	}
	return r, nil
}

func overlapsAny(rs []deid.Range, s, e int) bool {
	for _, x := range rs {
		if x.Start < e && s < x.End {
			return true
		}
	}
	return false
}

// Print writes the report as a table.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "%-9s %6s %8s %8s %9s %9s %11s\n", "category", "gold", "recall", "masked", "detected", "precision", "outside-det")
	for _, c := range deid.Categories {
		cs, ok := r.PerCategory[c]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-9s %6d %7.2f%% %7.2f%% %9d %8.2f%% %11d\n", c, cs.Gold, 100*cs.Recall(), 100*ratio(cs.Masked, cs.Gold), cs.Detected, 100*cs.Precision(), cs.OutsideDet)
	}
	fmt.Fprintf(w, "false masking: %d of %d gold medical-entity characters = %.3f%%\n", r.FalseMasked, r.MedicalRunes, 100*r.FalseMaskingRate())
}
