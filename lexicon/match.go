package lexicon

import "fmt"

// Mode selects the maximum-matching algorithm.
type Mode uint8

const (
	// Bidirectional runs Forward and Backward and chooses per chunk (see the
	// package documentation). It is the zero value and the paper's method.
	Bidirectional Mode = iota
	// Forward is forward maximum matching: from left to right, take the
	// longest term starting at the current position, else skip one rune.
	Forward
	// Backward is backward maximum matching: from right to left, take the
	// longest term ending at the current position, else skip one rune.
	Backward
)

// String returns "bidirectional", "forward" or "backward".
func (m Mode) String() string {
	switch m {
	case Bidirectional:
		return "bidirectional"
	case Forward:
		return "forward"
	case Backward:
		return "backward"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Match is a dictionary word found in the input: runes [Start, End) with
// the term's winning type.
type Match struct {
	Start, End int
	Type       CanonicalType
}

type scratch struct {
	codes  []uint16
	fEnd   []int32 // per start: end of the longest term, 0 if none
	fVal   []int32
	bStart []int32 // per end (index e, 1..n): start of the longest term, -1 if none
	bVal   []int32
	fw, bw []Match
	words  []Match
}

func (d *Dictionary) getScratch(n int) *scratch {
	sc, _ := d.pool.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	if cap(sc.codes) < n+1 {
		c := max(n+1, 256)
		sc.codes = make([]uint16, c)
		sc.fEnd = make([]int32, c)
		sc.fVal = make([]int32, c)
		sc.bStart = make([]int32, c)
		sc.bVal = make([]int32, c)
	}
	return sc
}

// encode maps runes to codes.
func (d *Dictionary) encode(runes []rune, sc *scratch) []uint16 {
	codes := sc.codes[:len(runes)]
	for i, r := range runes {
		codes[i] = d.codes.code(r)
	}
	return codes
}

// longestFrom returns the end of the longest term starting at i and its
// value, or end 0.
func (d *Dictionary) longestFrom(codes []uint16, i int) (end int, val int32) {
	base, check := d.base, d.check
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
		b := base[s]
		if b < 0 {
			return k + 1, -b - 1
		}
		if check[b] == s {
			end, val = k+1, -base[b]-1
		}
	}
	return end, val
}

// lattice fills, for every start, the longest term starting there and, for
// every end, the longest term ending there.
func (d *Dictionary) lattice(codes []uint16, sc *scratch) {
	n := len(codes)
	base, check := d.base, d.check
	fEnd, fVal := sc.fEnd[:n], sc.fVal[:n]
	bStart, bVal := sc.bStart[:n+1], sc.bVal[:n+1]
	for e := range bStart {
		bStart[e] = -1
	}
	for i := range n {
		fEnd[i] = 0
		s := int32(0)
		for k := i; k < n; k++ {
			c := codes[k]
			if c == 0 {
				break
			}
			t := base[s] + int32(c)
			if uint32(t) >= uint32(len(check)) || check[t] != s {
				break
			}
			s = t
			b := base[s]
			var v int32
			if b < 0 {
				v = -b - 1
			} else if check[b] == s {
				v = -base[b] - 1
			} else {
				continue
			}
			fEnd[i], fVal[i] = int32(k+1), v
			if bStart[k+1] < 0 {
				bStart[k+1], bVal[k+1] = int32(i), v
			}
			if b < 0 {
				break
			}
		}
	}
}

// AppendSegment appends to dst the dictionary words of the segmentation of
// runes (already normalised) chosen by mode, in text order, and returns the
// extended slice. Runes outside any word (single characters) are not
// reported. It allocates nothing when dst has room.
func (d *Dictionary) AppendSegment(dst []Match, runes []rune, mode Mode) []Match {
	if len(runes) == 0 {
		return dst
	}
	sc := d.getScratch(len(runes))
	defer d.pool.Put(sc)
	return d.appendSegment(dst, runes, mode, sc)
}

func (d *Dictionary) appendSegment(dst []Match, runes []rune, mode Mode, sc *scratch) []Match {
	codes := d.encode(runes, sc)
	if mode == Forward {
		return d.forward(dst, codes)
	}
	d.lattice(codes, sc)
	if mode == Backward {
		start := len(dst)
		dst = d.backward(dst, len(codes), sc)
		reverse(dst[start:])
		return dst
	}
	sc.fw = d.forwardFromLattice(sc.fw[:0], len(codes), sc)
	sc.bw = d.backward(sc.bw[:0], len(codes), sc)
	reverse(sc.bw)
	return chooseChunks(dst, sc.fw, sc.bw)
}

// Segment is AppendSegment(nil, runes, mode).
func (d *Dictionary) Segment(runes []rune, mode Mode) []Match {
	return d.AppendSegment(nil, runes, mode)
}

func (d *Dictionary) forward(dst []Match, codes []uint16) []Match {
	for i := 0; i < len(codes); {
		end, v := d.longestFrom(codes, i)
		if end == 0 {
			i++
			continue
		}
		dst = append(dst, Match{Start: i, End: end, Type: d.primary[v]})
		i = end
	}
	return dst
}

func (d *Dictionary) forwardFromLattice(dst []Match, n int, sc *scratch) []Match {
	for i := 0; i < n; {
		end := int(sc.fEnd[i])
		if end == 0 {
			i++
			continue
		}
		dst = append(dst, Match{Start: i, End: end, Type: d.primary[sc.fVal[i]]})
		i = end
	}
	return dst
}

// backward appends the backward segmentation's words in reverse text order.
func (d *Dictionary) backward(dst []Match, n int, sc *scratch) []Match {
	for e := n; e > 0; {
		s := int(sc.bStart[e])
		if s < 0 {
			e--
			continue
		}
		dst = append(dst, Match{Start: s, End: e, Type: d.primary[sc.bVal[e]]})
		e = s
	}
	return dst
}

func reverse(m []Match) {
	for i, j := 0, len(m)-1; i < j; i, j = i+1, j-1 {
		m[i], m[j] = m[j], m[i]
	}
}

// chooseChunks merges the forward and backward words (both in text order):
// it splits the text at the positions that are word boundaries in both
// segmentations and, for each chunk where they differ, appends the words of
// the segmentation preferred by [prefer].
func chooseChunks(dst, fw, bw []Match) []Match {
	i, j := 0, 0
	for i < len(fw) || j < len(bw) {
		if i < len(fw) && j < len(bw) && fw[i] == bw[j] {
			dst = append(dst, fw[i])
			i, j = i+1, j+1
			continue
		}
		var start, end int
		if j >= len(bw) || (i < len(fw) && fw[i].Start < bw[j].Start) {
			start, end = fw[i].Start, fw[i].End
		} else {
			start, end = bw[j].Start, bw[j].End
		}
		i0, j0 := i, j
		for grew := true; grew; {
			grew = false
			for ; i < len(fw) && fw[i].Start < end; i++ {
				end = max(end, fw[i].End)
				grew = true
			}
			for ; j < len(bw) && bw[j].Start < end; j++ {
				end = max(end, bw[j].End)
				grew = true
			}
		}
		if prefer(summarise(fw[i0:i], end-start), summarise(bw[j0:j], end-start)) {
			dst = append(dst, fw[i0:i]...)
		} else {
			dst = append(dst, bw[j0:j]...)
		}
	}
	return dst
}

// chunkSummary describes one segmentation of a chunk.
type chunkSummary struct {
	words, singles, longest int
}

func summarise(words []Match, length int) chunkSummary {
	s := chunkSummary{words: len(words), singles: length}
	for _, w := range words {
		l := w.End - w.Start
		s.singles -= l
		s.longest = max(s.longest, l)
	}
	return s
}

// prefer reports whether the forward segmentation f of a chunk wins over
// the backward one b: more dictionary words, then fewer single characters,
// then the longer longest word; a full tie goes to backward.
func prefer(f, b chunkSummary) bool {
	if f.words != b.words {
		return f.words > b.words
	}
	if f.singles != b.singles {
		return f.singles < b.singles
	}
	return f.longest > b.longest
}

// Feature is a per-character dictionary feature id: 0 is "O"; for the
// canonical type t (1..NumTypes), 2t-1 is "B-"+t and 2t is "I-"+t.
type Feature uint8

// NumFeatures is the number of feature ids (len(FeatureLabels())).
const NumFeatures = 2*NumTypes + 1

// FeatureOf returns the feature id of type t at the beginning (inside =
// false) or inside of a word; TypeNone gives 0 ("O").
func FeatureOf(t CanonicalType, inside bool) Feature {
	if !t.Valid() {
		return 0
	}
	f := Feature(2*t - 1)
	if inside {
		f++
	}
	return f
}

var featureLabels = func() []string {
	l := make([]string, NumFeatures)
	l[0] = "O"
	for _, t := range CanonicalTypes() {
		l[FeatureOf(t, false)] = "B-" + t.String()
		l[FeatureOf(t, true)] = "I-" + t.String()
	}
	return l
}()

// FeatureLabels returns the label of every feature id: "O", "B-Medical",
// "I-Medical", "B-Disease", ... The caller must not modify it.
func FeatureLabels() []string { return featureLabels }

// String returns the feature's label.
func (f Feature) String() string {
	if int(f) < len(featureLabels) {
		return featureLabels[f]
	}
	return fmt.Sprintf("Feature(%d)", uint8(f))
}

// AppendFeatures appends one feature per rune of runes (already normalised)
// to dst, from the bidirectional maximum matching segmentation, and returns
// the extended slice. It allocates nothing when dst has room.
func (d *Dictionary) AppendFeatures(dst []Feature, runes []rune) []Feature {
	if len(runes) == 0 {
		return dst
	}
	sc := d.getScratch(len(runes))
	defer d.pool.Put(sc)
	sc.words = d.appendSegment(sc.words[:0], runes, Bidirectional, sc)
	start := len(dst)
	dst = append(dst, make([]Feature, len(runes))...)
	out := dst[start:]
	for _, w := range sc.words {
		out[w.Start] = FeatureOf(w.Type, false)
		in := FeatureOf(w.Type, true)
		for k := w.Start + 1; k < w.End; k++ {
			out[k] = in
		}
	}
	return dst
}

// Features is AppendFeatures(nil, runes).
func (d *Dictionary) Features(runes []rune) []Feature {
	return d.AppendFeatures(nil, runes)
}
