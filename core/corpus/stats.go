package corpus

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Summary describes a set of documents (for "bingli data stats").
type Summary struct {
	Documents  int
	Unlabeled  int // documents without entities
	Characters int // runes
	Entities   int
	PerType    map[string]int
	// Nested counts entities lying inside another entity of their document (same span
	// with another type included); Overlapping counts entities that cross another (each
	// overlaps the other without either containing it). An entity can be in both.
	Nested, Overlapping int
	// BIODropped is how many entities ToBIO would drop (nesting and overlap).
	BIODropped int
}

// Stats summarises docs.
func Stats(docs []Document) Summary {
	s := Summary{Documents: len(docs), PerType: map[string]int{}}
	for _, d := range docs {
		s.Characters += utf8.RuneCountInString(d.Text)
		s.Entities += len(d.Entities)
		if len(d.Entities) == 0 {
			s.Unlabeled++
		}
		for i, e := range d.Entities {
			s.PerType[e.Type]++
			nested, crossing := false, false
			for j, o := range d.Entities {
				if i == j || o.End <= e.Start || e.End <= o.Start {
					continue
				}
				inside := o.Start <= e.Start && e.End <= o.End
				contains := e.Start <= o.Start && o.End <= e.End
				switch {
				case inside && (!contains || j < i): // identical spans: the later one is nested
					nested = true
				case !inside && !contains:
					crossing = true
				}
			}
			if nested {
				s.Nested++
			}
			if crossing {
				s.Overlapping++
			}
		}
		if len(d.Entities) > 1 {
			_, n := ToBIO(d)
			s.BIODropped += n
		}
	}
	return s
}

// String renders the summary as aligned lines, types by decreasing count.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "documents   %d (%d without entities)\n", s.Documents, s.Unlabeled)
	fmt.Fprintf(&b, "characters  %d\n", s.Characters)
	fmt.Fprintf(&b, "entities    %d (nested %d, overlapping %d, dropped by BIO %d)\n", s.Entities, s.Nested, s.Overlapping, s.BIODropped)
	types := make([]string, 0, len(s.PerType))
	for t := range s.PerType {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool {
		if s.PerType[types[i]] != s.PerType[types[j]] {
			return s.PerType[types[i]] > s.PerType[types[j]]
		}
		return types[i] < types[j]
	})
	for _, t := range types {
		fmt.Fprintf(&b, "  %-12s %d\n", t, s.PerType[t])
	}
	return b.String()
}
