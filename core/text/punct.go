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

// punctPages is punctClasses inverted, as 256-rune pages of the Basic Multilingual Plane
// indexed by r>>8 (nil where a page has no members, 0 for a rune that maps to itself): a
// lookup costs two loads, and most runes it sees (CJK punctuation that is already
// canonical) miss. The fullwidth ASCII punctuation (＂＇－～（）［］ and the rest of
// U+FF01–U+FF5E) is not listed: unifyPunct folds that block arithmetically.
var punctPages = func() *[256]*[256]rune {
	var pages [256]*[256]rune
	for _, c := range punctClasses {
		for _, r := range c.members {
			p := &pages[r>>8]
			if *p == nil {
				*p = new([256]rune)
			}
			if (*p)[r&0xFF] != 0 {
				panic("text: punctuation table lists " + string(r) + " twice")
			}
			(*p)[r&0xFF] = c.canonical
		}
	}
	return &pages
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
	if r <= 0xFFFF {
		if page := punctPages[r>>8]; page != nil && page[r&0xFF] != 0 {
			return page[r&0xFF]
		}
	}
	return r
}

func isASCIIAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}
