package text

import (
	"strings"
	"testing"
)

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"empty", "", 10, nil},
		{"CJK sentence ends", "头痛。发热！咳嗽？无；有", 0, []string{"头痛。", "发热！", "咳嗽？", "无；", "有"}},
		{"ASCII sentence ends", "a;b!c?d", 0, []string{"a;", "b!", "c?", "d"}},
		{"decimal point and comma do not end a sentence", "体温38.5℃,脉搏80次", 0, []string{"体温38.5℃,脉搏80次"}},
		{"runs of sentence ends stay together", "真的？！。。好", 0, []string{"真的？！。。", "好"}},
		{"closing quotes and brackets stay with the sentence", `他说"好。"然后（见上。）再`, 0, []string{`他说"好。"`, "然后（见上。）", "再"}},
		{"line breaks end a sentence", "a\nb\r\nc\n\n\nd", 0, []string{"a\n", "b\r\n", "c\n\n\n", "d"}},
		{"line break after a full stop stays with it", "好。\n\n下一行。", 0, []string{"好。\n\n", "下一行。"}},
		{"text ending in a delimiter", "好。", 0, []string{"好。"}},
		{"only delimiters", "\n。", 0, []string{"\n", "。"}},
		{"under the limit nothing more is cut", "一二，三四。五", 6, []string{"一二，三四。", "五"}},
		{"long sentence cut after pauses", "一二三，四五六、七八九,十。", 5, []string{"一二三，", "四五六、", "七八九,", "十。"}},
		{"greedy: the last pause that fits", "一，二，三四五六七", 4, []string{"一，二，", "三四五六", "七"}},
		{"hard cut without punctuation", "一二三四五六七八九十", 3, []string{"一二三", "四五六", "七八九", "十"}},
		{"hard cut moves back off an ASCII run", "左侧见肿块12.5mm大小", 8, []string{"左侧见肿块", "12.5mm大小"}},
		{"hard cut at the limit when the whole window is one run", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"hard cut keeps combining marks with their base", "xe\u0301e\u0301e\u0301", 4, []string{"xe\u0301", "e\u0301e\u0301"}},
		{"hard cut keeps zero-width-joined emoji", "头痛头痛👨\u200d👩\u200d👧", 8, []string{"头痛头痛", "👨\u200d👩\u200d👧"}},
		{"limit of one", "a。b", 1, []string{"a", "。", "b"}},
		{"negative limit is unlimited", strings.Repeat("长", 1000), -1, []string{strings.Repeat("长", 1000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runes := []rune(tt.in)
			pieces := SplitSentences(runes, tt.limit)
			checkPieces(t, runes, tt.limit, pieces)
			var got []string
			for _, p := range pieces {
				got = append(got, string(runes[p.Start:p.End]))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("SplitSentences(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

func TestSplitSentencesLong(t *testing.T) {
	// A pause at the start of each window forces the one-rune cut followed by a full one:
	// the pattern that would make a careless splitter quadratic or lose runes.
	runes := []rune(strings.Repeat("，"+strings.Repeat("字", 255), 400))
	pieces := SplitSentences(runes, 256)
	checkPieces(t, runes, 256, pieces)
	if len(pieces) != 401 {
		t.Errorf("got %d pieces, want 401", len(pieces))
	}
}

// checkPieces checks that pieces are non-empty, within limit, and tile runes exactly.
func checkPieces(t *testing.T, runes []rune, limit int, pieces []Piece) {
	t.Helper()
	next := 0
	for i, p := range pieces {
		if p.Start != next || p.End <= p.Start || limit > 0 && p.End-p.Start > limit {
			t.Fatalf("piece %d = %+v after offset %d (limit %d, %d runes): not contiguous, empty or too long", i, p, next, limit, len(runes))
		}
		next = p.End
	}
	if next != len(runes) {
		t.Fatalf("pieces end at %d, input has %d runes", next, len(runes))
	}
}

func FuzzSplitSentences(f *testing.F) {
	f.Add("头痛。发热！咳嗽？无；有\n下一行", 5)
	f.Add("一二三，四五六、七八九,十。", 3)
	f.Add("左侧见肿块12.5mm大小", 8)
	f.Add("xe\u0301e\u0301e\u0301", 1)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 300
		runes := []rune(s)
		checkPieces(t, runes, limit, SplitSentences(runes, limit))
	})
}
