package lexicon

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Term length limits, in runes after normalisation. Shorter or longer terms
// are dropped by the builder (and counted by the loaders): single characters
// are mostly noise in these lists (e.g. "C" listed as a symptom) and would
// turn every occurrence of a common character into a match; the staged lists
// have one term longer than MaxTermRunes.
const (
	MinTermRunes = 2
	MaxTermRunes = 32
)

// Builder collects terms and builds an immutable [Dictionary].
// A Builder is not safe for concurrent use.
type Builder struct {
	norm    func(string) string
	index   map[string]int32
	terms   []builderTerm
	sources map[string]uint32
	srcList []string
}

type builderTerm struct {
	text    string
	entries []builderEntry
}

type builderEntry struct {
	typ    CanonicalType
	origin Origin
	src    uint32
	count  uint32 // how often it was added (the annotation tie-break)
}

// NewBuilder returns an empty builder. normalize is applied to every term
// (after trimming surrounding white space) before it is stored; pass the
// same normaliser the caller applies to text before matching, e.g. one that
// maps full-width forms to half-width and lower-cases Latin letters. A nil
// normalize keeps terms as they are.
func NewBuilder(normalize func(string) string) *Builder {
	if normalize == nil {
		normalize = func(s string) string { return s }
	}
	return &Builder{
		norm:    normalize,
		index:   make(map[string]int32),
		sources: make(map[string]uint32),
	}
}

// Add adds a term from a training annotation with its canonical type and a
// source name (e.g. "ccks2017_train"). The caller guarantees the annotation
// comes from a training split only. Annotation entries win over list entries
// (see the package documentation). It reports whether the term was kept:
// false when it is not valid UTF-8 (before or after normalisation) or,
// once normalised, its length is outside [MinTermRunes, MaxTermRunes] or it
// has no letter (see the package documentation). An invalid type or an
// empty source is an error.
func (b *Builder) Add(term string, t CanonicalType, source string) (bool, error) {
	return b.add(term, t, source, OriginAnnotation)
}

// AddListTerm adds a term from a term list; see [Builder.Add] for the
// results.
func (b *Builder) AddListTerm(term string, t CanonicalType, source string) (bool, error) {
	return b.add(term, t, source, OriginList)
}

func (b *Builder) add(term string, t CanonicalType, source string, o Origin) (bool, error) {
	if !t.Valid() {
		return false, errors.New("lexicon: invalid canonical type " + t.String())
	}
	if source == "" || !utf8.ValidString(source) {
		return false, errors.New("lexicon: source must be non-empty UTF-8")
	}
	if !utf8.ValidString(term) {
		return false, nil
	}
	term = b.norm(strings.TrimSpace(term))
	if n := utf8.RuneCountInString(term); n < MinTermRunes || n > MaxTermRunes ||
		!utf8.ValidString(term) || !strings.ContainsFunc(term, unicode.IsLetter) {
		return false, nil
	}
	src, ok := b.sources[source]
	if !ok {
		src = uint32(len(b.srcList))
		b.sources[source] = src
		b.srcList = append(b.srcList, source)
	}
	i, ok := b.index[term]
	if !ok {
		i = int32(len(b.terms))
		b.index[term] = i
		b.terms = append(b.terms, builderTerm{text: term})
	}
	bt := &b.terms[i]
	for k := range bt.entries {
		e := &bt.entries[k]
		if e.typ == t && e.origin == o && e.src == src {
			e.count++
			return true, nil
		}
	}
	bt.entries = append(bt.entries, builderEntry{typ: t, origin: o, src: src, count: 1})
	return true, nil
}

// Len returns the number of distinct terms added so far.
func (b *Builder) Len() int { return len(b.terms) }

// Build builds the dictionary. The builder may be used further afterwards;
// later additions do not affect the built dictionary.
func (b *Builder) Build() (*Dictionary, error) {
	// Sources in name order, so the result does not depend on load order.
	srcOrder := slices.Clone(b.srcList)
	slices.Sort(srcOrder)
	srcRemap := make([]uint32, len(b.srcList))
	for newIdx, name := range srcOrder {
		srcRemap[b.sources[name]] = uint32(newIdx)
	}

	// Alphabet: codes 1..K by descending rune frequency (ties by rune), so the
	// frequent characters get small codes and the double array packs densely.
	freq := make(map[rune]int)
	for _, t := range b.terms {
		for _, r := range t.text {
			freq[r]++
		}
	}
	if len(freq) > maxAlphabet {
		return nil, errors.New("lexicon: alphabet too large")
	}
	alphabet := make([]rune, 0, len(freq))
	for r := range freq {
		alphabet = append(alphabet, r)
	}
	slices.SortFunc(alphabet, func(x, y rune) int {
		if c := cmp.Compare(freq[y], freq[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	codes := newCodeTable(alphabet)

	// Keys as code sequences, sorted.
	keys := make([][]int32, len(b.terms))
	flat := make([]int32, 0, len(b.terms)*6)
	for i, t := range b.terms {
		start := len(flat)
		for _, r := range t.text {
			flat = append(flat, int32(codes.code(r)))
		}
		keys[i] = flat[start:len(flat):len(flat)]
	}
	order := make([]int32, len(b.terms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return slices.Compare(keys[x], keys[y]) })

	// Entry combinations ("combos"): each term's entries in priority order.
	var combos [][]entry
	comboIndex := make(map[string]uint32)
	vals := make([]uint32, len(b.terms))
	var keyBuf []byte
	var ents []builderEntry
	for i, t := range b.terms {
		ents = append(ents[:0], t.entries...)
		for k := range ents {
			ents[k].src = srcRemap[ents[k].src]
		}
		slices.SortFunc(ents, func(x, y builderEntry) int {
			if x.origin != y.origin {
				return -cmp.Compare(x.origin, y.origin) // annotations first
			}
			if x.origin == OriginAnnotation && x.count != y.count {
				return -cmp.Compare(x.count, y.count)
			}
			if c := cmp.Compare(typeRank[x.typ], typeRank[y.typ]); c != 0 {
				return c
			}
			return cmp.Compare(x.src, y.src)
		})
		keyBuf = keyBuf[:0]
		for _, e := range ents {
			keyBuf = append(keyBuf, byte(e.typ), byte(e.origin), byte(e.src), byte(e.src>>8), byte(e.src>>16), byte(e.src>>24))
		}
		ci, ok := comboIndex[string(keyBuf)]
		if !ok {
			ci = uint32(len(combos))
			comboIndex[string(keyBuf)] = ci
			c := make([]entry, len(ents))
			for k, e := range ents {
				c[k] = entry{typ: e.typ, origin: e.origin, src: e.src}
			}
			combos = append(combos, c)
		}
		vals[i] = ci
	}
	// Renumber combos in first-use order along the sorted keys, so the
	// serialisation is independent of insertion order.
	remap := make([]int32, len(combos))
	for i := range remap {
		remap[i] = -1
	}
	sortedCombos := make([][]entry, 0, len(combos))
	sortedKeys := make([][]int32, len(order))
	sortedVals := make([]uint32, len(order))
	for k, i := range order {
		ci := vals[i]
		if remap[ci] < 0 {
			remap[ci] = int32(len(sortedCombos))
			sortedCombos = append(sortedCombos, combos[ci])
		}
		sortedKeys[k] = keys[i]
		sortedVals[k] = uint32(remap[ci])
	}

	base, check := buildDoubleArray(sortedKeys, sortedVals)
	return newDictionary(base, check, alphabet, codes, sortedCombos, srcOrder, len(order))
}
