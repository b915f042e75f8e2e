package lexicon

import (
	"fmt"
	"math/bits"
)

// Match features ("all matches"): where [Dictionary.AppendFeatures] reports one
// BIO-type label per character from the single BiMM segmentation, the match
// features report, for every character, every dictionary occurrence covering it
// — nested and overlapping ones included — as a set of bits, one per (origin,
// type, position): origin is training annotation or term list, type is any
// canonical type among the term's entries (not only the winning one), and
// position is B (the term starts at the character), M (inside) or E (ends
// there). Terms have at least MinTermRunes (2) runes, so there is no
// single-character position.
//
// The BiMM path has to choose one reading of 右肺上叶切除术 (a procedure) or of
// 右肺上叶 + 切除术; the match features keep both and let the tagger weigh
// them, and they tell a term seen annotated in training (with the type it was
// annotated as) from one that is only in a list.

// Match-feature positions within a term.
const (
	matchB = iota
	matchM
	matchE
	matchPositions
)

// NumMatchFeatures is the number of match-feature bits (origins × types × positions).
const NumMatchFeatures = 2 * NumTypes * matchPositions

// MatchBits is the set of match features of one character: bit f of word
// f/64. Feature f is MatchFeature(origin, type, position).
type MatchBits [2]uint64

// Has reports whether feature f is set.
func (m MatchBits) Has(f int) bool { return f >= 0 && f < NumMatchFeatures && m[f/64]&(1<<(f%64)) != 0 }

func (m *MatchBits) set(f int) { m[f/64] |= 1 << (f % 64) }

// matchFeature returns the bit of (origin, type, position).
func matchFeature(o Origin, t CanonicalType, pos int) int {
	return (int(o)*NumTypes+int(t)-1)*matchPositions + pos
}

var matchFeatureLabels = func() []string {
	l := make([]string, NumMatchFeatures)
	for _, o := range []Origin{OriginList, OriginAnnotation} {
		for _, t := range CanonicalTypes() {
			for pos, p := range []string{"B", "M", "E"} {
				l[matchFeature(o, t, pos)] = fmt.Sprintf("%s-%s-%s", o, t, p)
			}
		}
	}
	return l
}()

// MatchFeatureLabels returns the label of every match-feature bit, e.g.
// "annotation-Disease-B". The caller must not modify it.
func MatchFeatureLabels() []string { return matchFeatureLabels }

// typeMasks returns, per entry combination, the (origin, type) pairs among
// its entries as bits origin·NumTypes + type−1.
func (d *Dictionary) typeMasks() []uint32 {
	d.maskOnce.Do(func() {
		d.masks = make([]uint32, len(d.combos))
		for v, c := range d.combos {
			for _, e := range c {
				d.masks[v] |= 1 << (int(e.origin)*NumTypes + int(e.typ) - 1)
			}
		}
	})
	return d.masks
}

// AppendMatchFeatures appends the match features of every rune of runes
// (already normalised) to dst and returns the extended slice.
func (d *Dictionary) AppendMatchFeatures(dst []MatchBits, runes []rune) []MatchBits {
	if len(runes) == 0 {
		return dst
	}
	masks := d.typeMasks()
	sc := d.getScratch(len(runes))
	defer d.pool.Put(sc)
	codes := d.encode(runes, sc)
	start := len(dst)
	dst = append(dst, make([]MatchBits, len(runes))...)
	out := dst[start:]
	base, check := d.base, d.check
	for i := range codes {
		s := int32(0)
		for k := i; k < len(codes); k++ {
			c := codes[k]
			if c == 0 {
				break
			}
			t := base[s] + int32(c)
			if uint32(t) >= uint32(len(check)) || check[t] != s {
				break
			}
			s = t
			v := d.valueAt(s)
			if v >= 0 {
				markMatch(out, i, k+1, masks[v])
			}
			if base[s] < 0 { // a leaf: no longer term continues here
				break
			}
		}
	}
	return dst
}

// MatchFeatures is AppendMatchFeatures(nil, runes).
func (d *Dictionary) MatchFeatures(runes []rune) []MatchBits {
	return d.AppendMatchFeatures(nil, runes)
}

// markMatch sets the features of the term occurrence [start, end) whose
// (origin, type) pairs are mask.
func markMatch(out []MatchBits, start, end int, mask uint32) {
	for ; mask != 0; mask &= mask - 1 {
		pair := bits.TrailingZeros32(mask)
		o, t := Origin(pair/NumTypes), CanonicalType(pair%NumTypes+1)
		out[start].set(matchFeature(o, t, matchB))
		for k := start + 1; k < end-1; k++ {
			out[k].set(matchFeature(o, t, matchM))
		}
		out[end-1].set(matchFeature(o, t, matchE))
	}
}
