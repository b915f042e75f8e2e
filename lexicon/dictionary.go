package lexicon

import (
	"fmt"
	"sync"
)

// Dictionary is an immutable typed term dictionary with a double-array trie.
// It is safe for concurrent use.
type Dictionary struct {
	base, check []int32
	alphabet    []rune // code-1 → rune
	codes       codeTable
	combos      [][]entry       // value → entries in priority order
	primary     []CanonicalType // value → winning type
	sources     []string
	comboTerms  []int // value → number of terms
	terms       int

	hashOnce sync.Once
	hash     string
	maskOnce sync.Once
	masks    []uint32  // value → (origin, type) pairs, for the match features
	pool     sync.Pool // *scratch
}

type entry struct {
	typ    CanonicalType
	origin Origin
	src    uint32
}

func newDictionary(base, check []int32, alphabet []rune, codes codeTable, combos [][]entry, sources []string, terms int) (*Dictionary, error) {
	if err := validateAlphabet(alphabet); err != nil {
		return nil, err
	}
	counts, err := validateTrie(base, check, len(alphabet), len(combos))
	if err != nil {
		return nil, err
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != terms {
		return nil, fmt.Errorf("trie holds %d terms, want %d", total, terms)
	}
	primary := make([]CanonicalType, len(combos))
	for i, c := range combos {
		if len(c) == 0 {
			return nil, fmt.Errorf("entry combination %d is empty", i)
		}
		for _, e := range c {
			if !e.typ.Valid() || e.origin > OriginAnnotation || int(e.src) >= len(sources) {
				return nil, fmt.Errorf("entry combination %d: bad entry", i)
			}
		}
		primary[i] = c[0].typ
	}
	return &Dictionary{
		base: base, check: check, alphabet: alphabet, codes: codes,
		combos: combos, primary: primary, sources: sources,
		comboTerms: counts, terms: terms,
	}, nil
}

// Lookup returns the entries of term (already normalised), in priority
// order: the first entry's type is the one matches get. It returns nil when
// term is not in the dictionary.
func (d *Dictionary) Lookup(term []rune) []Entry {
	codes := make([]uint16, len(term))
	for i, r := range term {
		codes[i] = d.codes.code(r)
	}
	v := d.lookup(codes)
	if v < 0 {
		return nil
	}
	out := make([]Entry, len(d.combos[v]))
	for i, e := range d.combos[v] {
		out[i] = Entry{Type: e.typ, Source: d.sources[e.src], Origin: e.origin}
	}
	return out
}

// Stats describes a dictionary.
type Stats struct {
	Terms        int                   // distinct terms
	ByType       map[CanonicalType]int // terms per winning (first) type
	ByEntryType  map[CanonicalType]int // terms having at least one entry of the type
	BySource     map[string]int        // terms having at least one entry from the source
	Annotated    int                   // terms with at least one training-annotation entry
	Alphabet     int                   // distinct runes
	Slots        int                   // double-array slots (8 bytes each)
	Combinations int                   // distinct entry lists shared by terms
	// TrieBytes is the memory of the matching structure: the double array
	// (8 bytes per slot) plus the rune-code table (128 KiB, plus the
	// alphabet).
	TrieBytes int
}

// Stats returns counts of terms per type and source, and the trie's size.
func (d *Dictionary) Stats() Stats {
	s := Stats{
		Terms:        d.terms,
		ByType:       make(map[CanonicalType]int),
		ByEntryType:  make(map[CanonicalType]int),
		BySource:     make(map[string]int),
		Alphabet:     len(d.alphabet),
		Slots:        len(d.base),
		Combinations: len(d.combos),
		TrieBytes:    8*len(d.base) + 2*len(d.codes.bmp) + 4*len(d.alphabet) + 6*len(d.codes.astral),
	}
	for v, n := range d.comboTerms {
		if n == 0 {
			continue
		}
		s.ByType[d.primary[v]] += n
		var seenType [NumTypes + 1]bool
		seenSrc := make(map[uint32]bool, len(d.combos[v]))
		annotated := false
		for _, e := range d.combos[v] {
			if !seenType[e.typ] {
				seenType[e.typ] = true
				s.ByEntryType[e.typ] += n
			}
			if !seenSrc[e.src] {
				seenSrc[e.src] = true
				s.BySource[d.sources[e.src]] += n
			}
			annotated = annotated || e.origin == OriginAnnotation
		}
		if annotated {
			s.Annotated += n
		}
	}
	return s
}
