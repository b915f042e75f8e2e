package text

import "unicode"

// Piece is a rune span [Start, End) of the text given to [SplitSentences].
type Piece struct{ Start, End int }

// SplitSentences cuts runes into non-empty, contiguous pieces that concatenate to runes and
// are at most maxRunes long; maxRunes <= 0 means no limit. Empty input gives no pieces.
//
// A sentence ends after a full stop 。, one of ；！？;!? or a line break, together with the
// sentence-final punctuation and closing quotes or brackets right after it (so 。” and ？！
// stay whole) and the line breaks after those. A sentence longer than maxRunes is cut after
// the last pause mark ，、, that keeps the piece within the limit; where none does, it is
// hard-cut at maxRunes, moved back by up to half the limit so as not to split a run of ASCII
// letters, digits and dots (12.5mg, T11) or a grapheme (a combining mark or a
// zero-width-joined emoji from its neighbour).
func SplitSentences(runes []rune, maxRunes int) []Piece {
	if len(runes) == 0 {
		return nil
	}
	if maxRunes <= 0 {
		maxRunes = len(runes)
	}
	pieces := make([]Piece, 0, len(runes)/32+1)
	start := 0
	for i := 0; i < len(runes); {
		r := runes[i]
		i++
		switch {
		case isSentenceFinal(r):
			for i < len(runes) && (isSentenceFinal(runes[i]) || isCloser(runes[i])) {
				i++
			}
			fallthrough
		case isLineBreak(r):
			for i < len(runes) && isLineBreak(runes[i]) {
				i++
			}
			pieces = appendBounded(pieces, runes, start, i, maxRunes)
			start = i
		}
	}
	if start < len(runes) {
		pieces = appendBounded(pieces, runes, start, len(runes), maxRunes)
	}
	return pieces
}

// appendBounded appends the sentence [start, end), cut into pieces of at most limit runes.
func appendBounded(pieces []Piece, runes []rune, start, end, limit int) []Piece {
	for end-start > limit {
		cut := -1
		// Each scan stops at the last pause of its window, so the next window rescans only
		// what lies past it: the splitter stays linear in the input.
		for j := start + limit - 1; j >= start; j-- {
			if isPause(runes[j]) {
				cut = j + 1
				break
			}
		}
		if cut < 0 {
			cut = hardCut(runes, start, limit)
		}
		pieces = append(pieces, Piece{start, cut})
		start = cut
	}
	return append(pieces, Piece{start, end})
}

func isSentenceFinal(r rune) bool {
	switch r {
	case '。', '；', '！', '？', ';', '!', '?':
		return true
	}
	return false
}

func isPause(r rune) bool {
	return r == '，' || r == '、' || r == ','
}

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '”', '’', '」', '』', '）', '】', '》', '〕', '〗', '］':
		return true
	}
	return false
}

// hardCut is where a piece starting at start and holding no pause mark ends: at start+limit,
// or a little earlier where that would split a unit and an earlier position would not.
func hardCut(runes []rune, start, limit int) int {
	for cut := start + limit; cut >= start+(limit+1)/2; cut-- {
		if !splitsUnit(runes, cut) {
			return cut
		}
	}
	return start + limit
}

// splitsUnit reports whether cutting before runes[i] would split a unit the tagger should
// see whole.
func splitsUnit(runes []rune, i int) bool {
	const zwj = 0x200D
	prev, r := runes[i-1], runes[i]
	return unicode.IsMark(r) || r == zwj || prev == zwj ||
		(isASCIIAlnum(prev) || prev == '.') && (isASCIIAlnum(r) || r == '.')
}
