package corpus

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// ents builds entities from "start,end,type" triples.
func ents(specs ...string) []Entity {
	var out []Entity
	for _, s := range specs {
		var e Entity
		f := strings.SplitN(s, ",", 3)
		fmt.Sscan(f[0], &e.Start)
		fmt.Sscan(f[1], &e.End)
		e.Type = f[2]
		out = append(out, e)
	}
	return out
}

// checkKinds fails unless the report holds exactly the given problem counts per kind.
func checkKinds(t *testing.T, rep *Report, want map[string]int) {
	t.Helper()
	if want == nil {
		want = map[string]int{}
	}
	if !reflect.DeepEqual(rep.Counts, want) {
		t.Errorf("problem counts = %v, want %v", rep.Counts, want)
		for _, p := range rep.Problems {
			t.Log(p)
		}
	}
	for _, p := range rep.Problems {
		if !strings.HasPrefix(p.Action, "fixed: ") && !strings.HasPrefix(p.Action, "refused: ") && !strings.HasPrefix(p.Action, "kept: ") {
			t.Errorf("problem %v: action %q has no fixed:/refused:/kept: prefix", p, p.Action)
		}
	}
}

// checkDocs asserts the invariants every reader guarantees: valid UTF-8 text, entities inside
// it with start < end and a type, sorted, no duplicates.
func checkDocs(t *testing.T, docs []Document) {
	t.Helper()
	for _, d := range docs {
		if !utf8.ValidString(d.Text) {
			t.Fatalf("%s: text is not valid UTF-8", d.ID)
		}
		n := utf8.RuneCountInString(d.Text)
		for i, e := range d.Entities {
			if e.Start < 0 || e.Start >= e.End || (d.Text != "" && e.End > n) || e.Type == "" {
				t.Fatalf("%s: bad entity %+v (text %d runes)", d.ID, e, n)
			}
			if i > 0 {
				p := d.Entities[i-1]
				if p == e || p.Start > e.Start || (p.Start == e.Start && p.End < e.End) {
					t.Fatalf("%s: entities not sorted or duplicated: %+v then %+v", d.ID, p, e)
				}
			}
		}
	}
}

// docsEqual compares documents, treating nil and empty entity lists alike.
func docsEqual(a, b []Document) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Text != b[i].Text || len(a[i].Entities) != len(b[i].Entities) {
			return false
		}
		for j := range a[i].Entities {
			if a[i].Entities[j] != b[i].Entities[j] {
				return false
			}
		}
	}
	return true
}
