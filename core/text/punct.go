package text

// punctClasses is the UnifyPunct table of the package documentation: each entry maps every
// rune of its members to its canonical rune. Keep the two in step.
var punctClasses = []struct {
	canonical rune
	members   string
}{
	{'"', "“”„‟«»〝〞〟「」『』﹁﹂﹃﹄″"},
	{'\'', "‘’‚‛‹›′"},
	{'-', "‐‑‒–—―−⁃⸺⸻﹘﹣"},
	{'~', "〜〰∼⁓˜"},
	{'·', "・･‧•∙⋅"},
	{'(', "﹙"},
	{')', "﹚"},
	{'[', "【〔〖﹝"},
	{']', "】〕〗﹞"},
	{'{', "﹛"},
	{'}', "﹜"},
	{'<', "﹤"},
	{'>', "﹥"},
	{',', "﹐︐"},
	{'.', "﹒"},
	{':', "﹕︓∶"},
	{';', "﹔︔"},
	{'!', "﹗︕"},
	{'?', "﹖︖"},
	{'。', "｡︒"},
	{'、', "､﹑"},
	{' ', "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"},
}

// punctMap is punctClasses inverted. The fullwidth ASCII punctuation (＂＇－～（）［］ and
// the rest of U+FF01–U+FF5E) is not listed: unifyPunct folds that block arithmetically.
var punctMap = func() map[rune]rune {
	m := make(map[rune]rune, 128)
	for _, c := range punctClasses {
		for _, r := range c.members {
			if _, dup := m[r]; dup {
				panic("text: punctuation table lists " + string(r) + " twice")
			}
			m[r] = c.canonical
		}
	}
	return m
}()

// foldWidth applies the FoldWidth table.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFEE0
	case r == 0x3000:
		return ' '
	case r >= 0xFF61 && r <= 0xFF65:
		return halfwidthCJK[r-0xFF61]
	case r >= 0xFFE0 && r <= 0xFFE6:
		return fullwidthSigns[r-0xFFE0]
	}
	return r
}

var (
	halfwidthCJK   = [...]rune{'。', '「', '」', '、', '・'}
	fullwidthSigns = [...]rune{'¢', '£', '¬', '¯', '¦', '¥', '₩'}
)

// unifyPunct applies the UnifyPunct table.
func unifyPunct(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E {
		a := r - 0xFEE0
		if !isASCIIAlnum(a) {
			return a
		}
		return r
	}
	if m, ok := punctMap[r]; ok {
		return m
	}
	return r
}

func isASCIIAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}
