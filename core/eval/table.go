package eval

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteTable writes r as a fixed-width text table: a header naming the protocol and split,
// one row per type (in the order of r.Types) with gold, pred and TP counts and P, R and F1
// in percent, then the micro and macro rows, then the error breakdown per type and in
// total, with gold-side and prediction-side counts as "gold/pred". Columns align in a
// terminal for CJK type names, which count two columns per character.
func (r *Result) WriteTable(w io.Writer) error {
	var b strings.Builder
	protocol, split := r.Protocol, r.Split
	if protocol == "" {
		protocol = "unspecified"
	}
	if split == "" {
		split = "unspecified"
	}
	fmt.Fprintf(&b, "protocol: %s  split: %s  documents: %d  missing predictions: %d\n\n",
		protocol, split, r.Documents, r.MissingPredictions)

	scores := [][]string{{"type", "gold", "pred", "TP", "P", "R", "F1"}}
	for _, t := range r.Types {
		scores = append(scores, scoreRow(t.Type, t.Counts))
	}
	scores = append(scores, scoreRow("micro", r.Micro))
	m := r.Macro()
	scores = append(scores, []string{"macro", "", "", "", percent(m.Precision), percent(m.Recall), percent(m.F1)})
	writeColumns(&b, scores)

	fmt.Fprintf(&b, "\nerror breakdown (unmatched gold/unmatched predictions):\n")
	errs := [][]string{{"type", "type error", "boundary error", "boundary+type", "missed", "spurious"}}
	for _, t := range r.Types {
		errs = append(errs, errorRow(t.Type, t.Errors))
	}
	errs = append(errs, errorRow("all", r.Errors))
	writeColumns(&b, errs)

	_, err := io.WriteString(w, b.String())
	return err
}

func scoreRow(name string, c Counts) []string {
	return []string{name, strconv.Itoa(c.Gold()), strconv.Itoa(c.Pred()), strconv.Itoa(c.TP),
		percent(c.Precision()), percent(c.Recall()), percent(c.F1())}
}

func errorRow(name string, e Breakdown) []string {
	pair := func(g, p int) string { return strconv.Itoa(g) + "/" + strconv.Itoa(p) }
	return []string{name, pair(e.TypeGold, e.TypePred), pair(e.BoundaryGold, e.BoundaryPred),
		pair(e.BoundaryTypeGold, e.BoundaryTypePred), strconv.Itoa(e.Missed), strconv.Itoa(e.Spurious)}
}

func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) }

// writeColumns writes rows (all of the same length) with the first column left-aligned and
// the others right-aligned, two spaces apart, padding by display width.
func writeColumns(b *strings.Builder, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	for _, row := range rows {
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-displayWidth(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
}

// displayWidth is the number of terminal columns s takes: two for East Asian wide and
// fullwidth runes (CJK ideographs, kana, hangul, fullwidth forms), one for the others.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if isWide(r) {
			n++
		}
	}
	return n
}

func isWide(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x115F, // Hangul Jamo initials
		0x2E80 <= r && r <= 0x303E,   // CJK radicals, Kangxi, CJK symbols and punctuation
		0x3041 <= r && r <= 0x33FF,   // kana, bopomofo, CJK compatibility
		0x3400 <= r && r <= 0x4DBF,   // CJK extension A
		0x4E00 <= r && r <= 0x9FFF,   // CJK unified ideographs
		0xA000 <= r && r <= 0xA4CF,   // Yi
		0xAC00 <= r && r <= 0xD7A3,   // Hangul syllables
		0xF900 <= r && r <= 0xFAFF,   // CJK compatibility ideographs
		0xFE30 <= r && r <= 0xFE4F,   // CJK compatibility forms
		0xFF00 <= r && r <= 0xFF60,   // fullwidth forms
		0xFFE0 <= r && r <= 0xFFE6,   // fullwidth signs
		0x20000 <= r && r <= 0x3FFFD: // CJK extensions B and later
		return true
	}
	return false
}
