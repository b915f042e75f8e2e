package lexicon

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// naive is a map-based reference implementation of the matchers.
type naive struct {
	types  map[string]CanonicalType
	maxLen int
}

func (n naive) longestFrom(r []rune, i int) int {
	for l := min(n.maxLen, len(r)-i); l >= MinTermRunes; l-- {
		if _, ok := n.types[string(r[i:i+l])]; ok {
			return i + l
		}
	}
	return 0
}

func (n naive) forward(r []rune) []Match {
	var out []Match
	for i := 0; i < len(r); {
		if e := n.longestFrom(r, i); e > 0 {
			out = append(out, Match{i, e, n.types[string(r[i:e])]})
			i = e
		} else {
			i++
		}
	}
	return out
}

func (n naive) backward(r []rune) []Match {
	var out []Match
	for e := len(r); e > 0; {
		s := -1
		for l := min(n.maxLen, e); l >= MinTermRunes; l-- {
			if _, ok := n.types[string(r[e-l:e])]; ok {
				s = e - l
				break
			}
		}
		if s < 0 {
			e--
			continue
		}
		out = append(out, Match{s, e, n.types[string(r[s:e])]})
		e = s
	}
	slices.Reverse(out)
	return out
}

// bidirectional cuts at common boundaries and applies the documented rule.
func (n naive) bidirectional(r []rune) []Match {
	f, b := n.forward(r), n.backward(r)
	inside := func(ms []Match) []bool {
		in := make([]bool, len(r)+1)
		for _, m := range ms {
			for p := m.Start + 1; p < m.End; p++ {
				in[p] = true
			}
		}
		return in
	}
	fin, bin := inside(f), inside(b)
	var out []Match
	start := 0
	for p := 1; p <= len(r); p++ {
		if fin[p] || bin[p] {
			continue
		}
		pick := func(ms []Match) (words []Match, covered, longest int) {
			for _, m := range ms {
				if m.Start >= start && m.End <= p {
					words = append(words, m)
					covered += m.End - m.Start
					longest = max(longest, m.End-m.Start)
				}
			}
			return
		}
		fw, fc, fl := pick(f)
		bw, bc, bl := pick(b)
		useF := false
		switch {
		case len(fw) != len(bw):
			useF = len(fw) > len(bw)
		case fc != bc:
			useF = fc > bc
		default:
			useF = fl > bl
		}
		if useF {
			out = append(out, fw...)
		} else {
			out = append(out, bw...)
		}
		start = p
	}
	return out
}

func TestMatchersAgainstNaive(t *testing.T) {
	alphabet := []rune("头痛心悸电图脑ct𠀀")
	rng := rand.New(rand.NewPCG(1, 2))
	randWord := func(minLen, maxLen int) []rune {
		w := make([]rune, minLen+rng.IntN(maxLen-minLen+1))
		for i := range w {
			w[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return w
	}
	for trial := range 40 {
		t.Run(fmt.Sprint("dict", trial), func(t *testing.T) {
			b := NewBuilder(nil)
			ref := naive{types: map[string]CanonicalType{}, maxLen: 6}
			for range 5 + rng.IntN(60) {
				w := string(randWord(2, 6))
				typ := CanonicalType(1 + rng.IntN(NumTypes))
				if _, err := b.AddListTerm(w, typ, "s"); err != nil {
					t.Fatal(err)
				}
				if old, ok := ref.types[w]; !ok || typeRank[typ] < typeRank[old] {
					ref.types[w] = typ
				}
			}
			d, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if d.terms != len(ref.types) {
				t.Fatalf("%d terms, want %d", d.terms, len(ref.types))
			}
			for w, typ := range ref.types {
				if e := d.Lookup([]rune(w)); len(e) == 0 || e[0].Type != typ {
					t.Fatalf("Lookup(%q) = %v, want type %v", w, e, typ)
				}
			}
			for range 30 {
				text := randWord(0, 40)
				if e := d.Lookup(text); (e != nil) != (ref.types[string(text)] != 0) {
					t.Fatalf("Lookup(%q) = %v", string(text), e)
				}
				for _, c := range []struct {
					mode Mode
					want []Match
				}{
					{Forward, ref.forward(text)},
					{Backward, ref.backward(text)},
					{Bidirectional, ref.bidirectional(text)},
				} {
					if got := d.Segment(text, c.mode); !slices.Equal(got, c.want) {
						t.Fatalf("%s(%q):\n got %v\nwant %v", c.mode, string(text), got, c.want)
					}
				}
			}
		})
	}
}

func TestEmptyDictionary(t *testing.T) {
	d, err := NewBuilder(nil).Build()
	if err != nil {
		t.Fatal(err)
	}
	text := []rune("头痛")
	if ms := d.Segment(text, Bidirectional); len(ms) != 0 {
		t.Errorf("matches %v", ms)
	}
	if d.Lookup(text) != nil || d.Lookup(nil) != nil {
		t.Error("lookup in an empty dictionary found something")
	}
}
