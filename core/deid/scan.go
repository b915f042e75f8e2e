package deid

import (
	"regexp"
	"regexp/syntax"
	"unicode"
)

// A scanner finds every match of one detection pattern, exactly as
// regexp.FindAllStringSubmatchIndex would, but faster on Chinese text. Go's regexp has a
// fast skip only for a literal prefix; the patterns here start with alternations of labels
// or with digits, so it would step its matcher through every rune of the record, about 30
// times per record. A scanner tries its pattern (anchored) only where a match can begin: at
// runes in the pattern's first-rune set, which is a few percent of a clinical text.
//
// Leftmost-first matching makes the two the same: FindAll takes, from its position, the
// first start that has a match and there the match the anchored pattern prefers, then goes
// on from its end. A pattern whose match can be empty or that tests positions (^, $, \b)
// has no first-rune set; its scanner falls back to FindAll.
type scanner struct {
	re       *regexp.Regexp
	anchored *regexp.Regexp
	// first reports whether a match can begin with r; nil means the fallback.
	first func(r rune) bool
	// maxRunes bounds a match's length in runes (the anchored try reads no further);
	// -1 when unbounded.
	maxRunes int
}

// regexpScanner is a scanner that always uses FindAll.
func regexpScanner(expr string) *scanner {
	return &scanner{re: regexp.MustCompile(expr), maxRunes: -1}
}

func mustScanner(expr string) *scanner {
	sc := &scanner{re: regexp.MustCompile(expr), anchored: regexp.MustCompile(`^(?:` + expr + `)`), maxRunes: -1}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		panic(err) // regexp.MustCompile accepted it
	}
	tree = tree.Simplify()
	prog, err := syntax.Compile(tree)
	if err != nil {
		panic(err)
	}
	for i := range prog.Inst {
		if prog.Inst[i].Op == syntax.InstEmptyWidth {
			return sc
		}
	}
	insts, ok := firstInsts(prog)
	if !ok {
		return sc
	}
	sc.first = runePredicate(insts)
	sc.maxRunes = maxLen(tree)
	return sc
}

// firstInsts returns the rune instructions a match can begin with, or false when the
// pattern can match the empty string.
func firstInsts(prog *syntax.Prog) ([]*syntax.Inst, bool) {
	var out []*syntax.Inst
	seen := map[uint32]bool{}
	stack := []uint32{uint32(prog.Start)}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, in)
		default: // InstMatch (empty match), InstFail, InstEmptyWidth
			return nil, false
		}
	}
	return out, true
}

// runePredicate builds a fast membership test for the runes the instructions accept: a
// table for ASCII, a set for the other runes of small classes, and the instructions
// themselves for wide classes (\p{Han}, negations).
func runePredicate(insts []*syntax.Inst) func(rune) bool {
	var ascii [128]bool
	set := map[rune]bool{}
	var wide []*syntax.Inst
	for _, in := range insts {
		for r := rune(0); r < 128; r++ {
			if in.MatchRune(r) {
				ascii[r] = true
			}
		}
		if in.Op != syntax.InstRune && in.Op != syntax.InstRune1 {
			wide = append(wide, in)
			continue
		}
		size := 0
		for k := 0; k+1 < len(in.Rune); k += 2 {
			size += int(in.Rune[k+1]-in.Rune[k]) + 1
		}
		if len(in.Rune) == 1 {
			size = 1
		}
		if size > 4096 {
			wide = append(wide, in)
			continue
		}
		add := func(r rune) {
			for f := r; ; {
				if f >= 128 && in.MatchRune(f) {
					set[f] = true
				}
				if f = unicode.SimpleFold(f); f == r {
					break
				}
			}
		}
		if len(in.Rune) == 1 {
			add(in.Rune[0])
		}
		for k := 0; k+1 < len(in.Rune); k += 2 {
			for r := in.Rune[k]; r <= in.Rune[k+1]; r++ {
				add(r)
			}
		}
	}
	return func(r rune) bool {
		if r < 128 {
			return ascii[r]
		}
		if set[r] {
			return true
		}
		for _, in := range wide {
			if in.MatchRune(r) {
				return true
			}
		}
		return false
	}
}

// maxLen returns the most runes a match of re can span, or -1 when unbounded.
func maxLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpQuest:
		return maxLen(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return -1
	case syntax.OpRepeat:
		n := maxLen(re.Sub[0])
		if re.Max < 0 || n < 0 {
			return -1
		}
		return re.Max * n
	case syntax.OpConcat:
		total := 0
		for _, s := range re.Sub {
			n := maxLen(s)
			if n < 0 {
				return -1
			}
			total += n
		}
		return total
	case syntax.OpAlternate:
		longest := 0
		for _, s := range re.Sub {
			n := maxLen(s)
			if n < 0 {
				return -1
			}
			longest = max(longest, n)
		}
		return longest
	case syntax.OpEmptyMatch:
		return 0
	default:
		return -1
	}
}

// findAll returns what sc.re.FindAllStringSubmatchIndex(d.str, -1) returns.
func (sc *scanner) findAll(d *doc) [][]int {
	if sc.first == nil {
		return sc.re.FindAllStringSubmatchIndex(d.str, -1)
	}
	var out [][]int
	for i := 0; i < len(d.rs); i++ {
		if !sc.first(d.rs[i]) {
			continue
		}
		b := d.byteAt[i]
		end := len(d.str)
		if sc.maxRunes >= 0 {
			end = d.byteAt[min(i+sc.maxRunes, len(d.rs))]
		}
		loc := sc.anchored.FindStringSubmatchIndex(d.str[b:end])
		if loc == nil {
			continue
		}
		for k := range loc {
			if loc[k] >= 0 {
				loc[k] += b
			}
		}
		out = append(out, loc)
		i = d.runeAt[loc[1]] - 1 // matches are never empty here, so this moves on
	}
	return out
}
