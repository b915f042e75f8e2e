package lexicon

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// The trie is a double array (Aoe 1989) over rune codes.
//
// Runes are first mapped to dense codes 1..K (0 = not in any term) by a
// 64K-entry table for the BMP plus a map for the rare astral runes. Slot 0
// is the root. For an inner node s with base b = base[s] ≥ 1, the child for
// code c is the slot t = b+c with check[t] == s. A term ending at s stores
// its value v (an index into the entry-combination table) as base = -(v+1):
// in s itself when s has no children (a leaf; most terms), otherwise in the
// "end marker" slot b+0, recognised by check[b] == s. So every slot costs 8
// bytes and there is no separate value array. Free slots have check == -1,
// the root has check == -2.

const (
	maxAlphabet = 1<<16 - 1
	checkFree   = -1
	checkRoot   = -2
)

type codeTable struct {
	bmp    []uint16        // 65536 entries
	astral map[rune]uint16 // runes above U+FFFF; nil when none
}

func newCodeTable(alphabet []rune) codeTable {
	t := codeTable{bmp: make([]uint16, 1<<16)}
	for i, r := range alphabet {
		c := uint16(i + 1)
		if uint32(r) < 1<<16 {
			t.bmp[r] = c
			continue
		}
		if t.astral == nil {
			t.astral = make(map[rune]uint16)
		}
		t.astral[r] = c
	}
	return t
}

func (t *codeTable) code(r rune) uint16 {
	if uint32(r) < 1<<16 {
		return t.bmp[r]
	}
	return t.astral[r]
}

type daBuilder struct {
	base, check []int32
	keys        [][]int32
	vals        []uint32
	nextCheck   int
	stack       []daChild
}

type daChild struct {
	code   int32
	lo, hi int
}

// buildDoubleArray builds the arrays for sorted, unique, non-empty keys
// (code sequences) with their values.
func buildDoubleArray(keys [][]int32, vals []uint32) (base, check []int32) {
	b := &daBuilder{keys: keys, vals: vals, nextCheck: 1}
	b.ensure(1)
	b.check[0] = checkRoot
	b.base[0] = 1
	if len(keys) > 0 {
		b.place(0, 0, 0, len(keys))
	}
	size := len(b.check)
	for size > 1 && b.check[size-1] == checkFree {
		size--
	}
	return b.base[:size:size], b.check[:size:size]
}

func (b *daBuilder) ensure(n int) {
	if n <= len(b.check) {
		return
	}
	newLen := max(n, 2*len(b.check), 1024)
	base := make([]int32, newLen)
	check := make([]int32, newLen)
	copy(base, b.base)
	copy(check, b.check)
	for i := len(b.check); i < newLen; i++ {
		check[i] = checkFree
	}
	b.base, b.check = base, check
}

// place lays out the subtree of node, which is reached by the common prefix
// of length depth of keys[lo:hi].
func (b *daBuilder) place(node int32, depth, lo, hi int) {
	terminal := len(b.keys[lo]) == depth
	if terminal && hi-lo == 1 {
		b.base[node] = -int32(b.vals[lo]) - 1
		return
	}
	first := len(b.stack)
	if terminal {
		b.stack = append(b.stack, daChild{code: 0, lo: lo, hi: lo + 1})
		lo++
	}
	for k := lo; k < hi; {
		c := b.keys[k][depth]
		j := k + 1
		for j < hi && b.keys[j][depth] == c {
			j++
		}
		b.stack = append(b.stack, daChild{code: c, lo: k, hi: j})
		k = j
	}
	n := len(b.stack) - first
	bse := b.findBase(b.stack[first:])
	b.base[node] = bse
	for _, k := range b.stack[first:] {
		b.check[bse+k.code] = node
	}
	for i := range n {
		k := b.stack[first+i]
		slot := bse + k.code
		if k.code == 0 {
			b.base[slot] = -int32(b.vals[k.lo]) - 1
			continue
		}
		b.place(slot, depth+1, k.lo, k.hi)
	}
	b.stack = b.stack[:first]
}

// findBase finds a base ≥ 1 whose slots for all kids are free, scanning
// from the first free slot and skipping dense regions (the darts heuristic).
func (b *daBuilder) findBase(kids []daChild) int32 {
	c0 := int(kids[0].code)
	last := int(kids[len(kids)-1].code)
	pos := max(c0+1, b.nextCheck)
	start := -1
	occupied := 0
	for ; ; pos++ {
		b.ensure(pos + 1)
		if b.check[pos] != checkFree {
			occupied++
			continue
		}
		if start < 0 {
			start = pos
			b.nextCheck = pos
		}
		bse := pos - c0
		b.ensure(bse + last + 1)
		ok := true
		for _, k := range kids[1:] {
			if b.check[bse+int(k.code)] != checkFree {
				ok = false
				break
			}
		}
		if ok {
			break
		}
	}
	if start >= 0 && float64(occupied)/float64(pos-start+1) >= 0.95 {
		b.nextCheck = pos
	}
	return int32(pos - c0)
}

// valueAt returns the value of the term ending at node s, or -1.
func (d *Dictionary) valueAt(s int32) int32 {
	b := d.base[s]
	if b < 0 {
		return -b - 1
	}
	if d.check[b] == s {
		return -d.base[b] - 1
	}
	return -1
}

// lookup returns the value of the term spelt by codes, or -1.
func (d *Dictionary) lookup(codes []uint16) int32 {
	s := int32(0)
	for _, c := range codes {
		b := d.base[s]
		if c == 0 || b < 0 {
			return -1
		}
		t := b + int32(c)
		if uint32(t) >= uint32(len(d.check)) || d.check[t] != s {
			return -1
		}
		s = t
	}
	if s == 0 {
		return -1
	}
	return d.valueAt(s)
}

// validateTrie checks the invariants the matcher relies on, so that a
// corrupt serialisation yields an error rather than a panic. It returns the
// number of terms per value.
func validateTrie(base, check []int32, alphabetSize, numValues int) ([]int, error) {
	n := len(base)
	if n == 0 || len(check) != n {
		return nil, errors.New("trie arrays empty or of different lengths")
	}
	if check[0] != checkRoot || base[0] < 1 {
		return nil, errors.New("trie root slot is malformed")
	}
	counts := make([]int, numValues)
	for s := range n {
		b := base[s]
		if s > 0 {
			p := check[s]
			if p == checkFree {
				continue
			}
			if p < 0 || int(p) >= n || (p != 0 && check[p] < 0) || base[p] < 1 {
				return nil, fmt.Errorf("trie slot %d: bad parent %d", s, p)
			}
			c := int32(s) - base[p]
			if c < 0 || int(c) > alphabetSize {
				return nil, fmt.Errorf("trie slot %d: code %d out of range", s, c)
			}
			if c == 0 && (p == 0 || b >= 0) {
				return nil, fmt.Errorf("trie slot %d: malformed end marker", s)
			}
		}
		if b < 0 {
			v := -int64(b) - 1
			if v >= int64(numValues) {
				return nil, fmt.Errorf("trie slot %d: value %d out of range", s, v)
			}
			if s == 0 {
				return nil, errors.New("trie root holds a value")
			}
			counts[v]++
		} else if b < 1 || (s > 0 && int(b) >= n) { // the root's children are bounds-checked
			return nil, fmt.Errorf("trie slot %d: base %d out of range", s, b)
		}
	}
	return counts, nil
}

// validateAlphabet checks that the alphabet's runes are valid and distinct.
func validateAlphabet(alphabet []rune) error {
	if len(alphabet) > maxAlphabet {
		return errors.New("alphabet too large")
	}
	seen := make(map[rune]struct{}, len(alphabet))
	for i, r := range alphabet {
		if !utf8.ValidRune(r) {
			return fmt.Errorf("alphabet entry %d: invalid rune %d", i, r)
		}
		if _, dup := seen[r]; dup {
			return fmt.Errorf("alphabet entry %d: duplicate rune %q", i, r)
		}
		seen[r] = struct{}{}
	}
	return nil
}
