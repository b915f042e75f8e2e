package text

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	def := DefaultOptions()
	fold := Options{FoldWidth: true}
	punct := Options{UnifyPunct: true}
	lower := Options{Lower: true}
	keepNL := Options{UnifyNewlines: true}
	collapse := Options{Whitespace: WhitespaceCollapse}
	remove := Options{Whitespace: WhitespaceRemove}

	tests := []struct {
		name string
		in   string
		opt  Options
		want string
	}{
		{"empty", "", def, ""},
		{"zero options are the identity", "ＡＢ　“Ｃ”\r\n  x\u3000", Options{}, "ＡＢ　“Ｃ”\r\n  x\u3000"},

		{"fullwidth letters and digits", "ＡＢＣ１２３ａｂｃ", fold, "ABC123abc"},
		{"fullwidth punctuation", "（１）：；！？，．％＋－～", fold, "(1):;!?,.%+-~"},
		{"ideographic space", "患者　男", fold, "患者 男"},
		{"halfwidth CJK punctuation", "｢好｣｡､･", fold, "「好」。、・"},
		{"fullwidth signs", "￥１００￡", fold, "¥100£"},

		{"quotes", "“发热”‘咳’「痰」『血』〝x〞«y»", punct, `"发热"'咳'"痰""血""x""y"`},
		{"dashes", "2‐3‑4‒5–6—7―8−9﹣0－", punct, "2-3-4-5-6-7-8-9-0-"},
		{"tildes", "3～5天3〜5天∼", punct, "3~5天3~5天~"},
		{"middle dots", "阿・买买提•艾力‧x∙y⋅z･", punct, "阿·买买提·艾力·x·y·z·"},
		{"brackets", "【诊断】〔1〕（2）［3］｛4｝﹙5﹚〖6〗", punct, "[诊断][1](2)[3]{4}(5)[6]"},
		{"comparisons and title marks", "＜5＞《内科学》〈x〉", punct, "<5>《内科学》〈x〉"},
		{"CJK-only classes keep their CJK form", "甲｡乙︒丙､丁﹑", punct, "甲。乙。丙、丁、"},
		{"full stop is never a decimal point", "3.5。", def, "3.5。"},
		{"ratio colon", "1∶100", punct, "1:100"},
		{"space separators", "a\u00a0b\u2003c\u3000d", punct, "a b c d"},
		{"punctuation without width folding", "ＡＢ（）１", punct, "ＡＢ()１"},

		{"lower ASCII", "CT、MRI", lower, "ct、mri"},
		{"lower beyond ASCII", "ΑΒΣ İ Ⅱ型", lower, "αβσ i ⅱ型"},
		{"lower fullwidth needs folding first", "ＨｂＡ1ｃ", lower, "ｈｂａ1ｃ"},
		{"fold and lower", "ＨｂＡ1ｃ", def, "hba1c"},

		{"keep whitespace", "a \t b\n\n c ", Options{}, "a \t b\n\n c "},
		{"collapse spaces", "头痛  \t 发热", collapse, "头痛 发热"},
		{"collapse keeps line ends", "头痛 \n\n  发热\r\n咳嗽\u2028", collapse, "头痛\n发热\n咳嗽\n"},
		{"collapse exotic spaces", "a\u3000\u00a0b", collapse, "a b"},
		{"remove whitespace", " a b\n c\r\n", remove, "abc"},
		{"CRLF to LF", "a\r\nb\rc\u2028d\u0085e\n", keepNL, "a\nb\nc\nd\ne\n"},
		{"CRLF kept without the option", "a\r\nb\r", Options{}, "a\r\nb\r"},
		{"CR CR LF", "a\r\r\nb", keepNL, "a\n\nb"},

		{"mixed CJK and Latin", "患者HBsAg（＋），ALT 120U/L", def, "患者hbsag(+),alt 120u/l"},
		{"emoji and astral runes", "痛😀𠀀Ａ👍🏽", def, "痛😀𠀀a👍🏽"},
		{"combining marks stay separate runes", "e\u0301Ｅ\u0301", def, "e\u0301e\u0301"},
		{"BOM and zero-width space are not whitespace", "\ufeff患\u200b者", def, "\ufeff患\u200b者"},
		{"replacement character is valid input", "a\ufffdb", def, "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nm, err := Normalize(tt.in, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if nm.Text != tt.want {
				t.Errorf("Normalize(%q).Text = %q, want %q", tt.in, nm.Text, tt.want)
			}
			checkNormalized(t, tt.in, tt.opt, nm)
		})
	}
}

func TestNormalizeSpans(t *testing.T) {
	const in = "  头痛 \t 发热\r\n咳嗽  "
	nm, err := Normalize(in, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if want := " 头痛 发热\n咳嗽 "; nm.Text != want {
		t.Fatalf("Text = %q, want %q", nm.Text, want)
	}
	tests := []struct {
		name       string
		start, end int    // normalised runes
		orig       string // the original text the span must map to
		runeStart  int
	}{
		{"word after leading run", 1, 3, "头痛", 2},
		{"span over a collapsed run keeps the run", 1, 6, "头痛 \t 发热", 2},
		{"collapsed space is the run's first rune", 3, 4, " ", 4},
		{"span ending at a collapsed run stops at its first rune", 1, 4, "头痛 ", 2},
		{"span starting at a collapsed run", 3, 6, " \t 发热", 4},
		{"line break stands for the LF of CRLF", 6, 7, "\n", 10},
		{"span over CRLF", 4, 9, "发热\r\n咳嗽", 7},
		{"leading collapsed run", 0, 1, " ", 0},
		{"trailing collapsed run", 9, 10, " ", 13},
		{"whole text", 0, 10, "  头痛 \t 发热\r\n咳嗽 ", 0},
		{"empty span inside", 3, 3, "", 4},
		{"empty span at the end", 10, 10, "", 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, re := nm.OriginalRunes(tt.start, tt.end)
			bs, be := nm.OriginalBytes(tt.start, tt.end)
			if got := in[bs:be]; got != tt.orig {
				t.Errorf("OriginalBytes(%d, %d) = [%d, %d) = %q, want %q", tt.start, tt.end, bs, be, got, tt.orig)
			}
			if got := string([]rune(in)[rs:re]); got != tt.orig || rs != tt.runeStart {
				t.Errorf("OriginalRunes(%d, %d) = [%d, %d) = %q, want %q at %d", tt.start, tt.end, rs, re, got, tt.orig, tt.runeStart)
			}
			if tt.start < tt.end {
				if s, e := nm.ToNormalized(rs, re); s != tt.start || e != tt.end {
					t.Errorf("ToNormalized(%d, %d) = (%d, %d), want (%d, %d)", rs, re, s, e, tt.start, tt.end)
				}
			}
		})
	}
	t.Run("ToNormalized drops deleted runes at the edges", func(t *testing.T) {
		// Original runes [4, 9) are " \t 发热": the run's first space survives as normalised
		// rune 3, the tab and second space were deleted.
		if s, e := nm.ToNormalized(5, 9); s != 4 || e != 6 {
			t.Errorf("ToNormalized(5, 9) = (%d, %d), want (4, 6)", s, e)
		}
		if s, e := nm.ToNormalized(15, 15); s != 10 || e != 10 {
			t.Errorf("ToNormalized(15, 15) = (%d, %d), want (10, 10)", s, e)
		}
	})
}

func TestNormalizeSpanPanics(t *testing.T) {
	nm, err := Normalize("ab", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		call func()
	}{
		{"OriginalRunes end past the text", func() { nm.OriginalRunes(0, 3) }},
		{"OriginalBytes start after end", func() { nm.OriginalBytes(2, 1) }},
		{"ToNormalized negative", func() { nm.ToNormalized(-1, 1) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "out of range") {
					t.Errorf("recovered %v, want an out-of-range panic", r)
				}
			}()
			tt.call()
		})
	}
}

func TestNormalizeInvalidUTF8(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		offset int
	}{
		{"stray continuation byte", "ab\xffcd", 2},
		{"truncated sequence after CJK", "中\xe4\xb8", 3},
		{"encoded surrogate", "\xed\xa0\x80", 0},
		{"overlong slash", "x \xc0\xaf", 2},
		{"invalid after collapsed run", "a  \x80", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize(tt.in, DefaultOptions())
			var ue *InvalidUTF8Error
			if !errors.As(err, &ue) {
				t.Fatalf("Normalize(%q) error = %v, want *InvalidUTF8Error", tt.in, err)
			}
			if ue.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d", ue.Offset, tt.offset)
			}
			if want := "byte offset " + strconv.Itoa(tt.offset); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %q", err, want)
			}
		})
	}
}

func TestNormalizeBadMode(t *testing.T) {
	if _, err := Normalize("a", Options{Whitespace: WhitespaceRemove + 1}); err == nil {
		t.Error("Normalize accepted an unknown whitespace mode")
	}
}

// checkNormalized checks the offset-map invariants of nm = Normalize(s, opt): each
// normalised rune maps to exactly one original rune, strictly increasing, and the original
// runes no normalised rune maps to are whitespace the options delete.
func checkNormalized(t *testing.T, s string, opt Options, nm *Normalized) {
	t.Helper()
	if nm.Text != string(nm.Runes) {
		t.Fatalf("Text %q and Runes %q differ", nm.Text, string(nm.Runes))
	}
	orig := []rune(s)
	nextRune, nextByte := 0, 0 // first original rune (and its byte) not yet accounted for
	deleted := func(upToRune, upToByte int) {
		if utf8.RuneCountInString(s[nextByte:upToByte]) != upToRune-nextRune {
			t.Fatalf("rune and byte offsets disagree before original rune %d", upToRune)
		}
		for _, r := range orig[nextRune:upToRune] {
			if !isSpace(r) || opt.Whitespace == WhitespaceKeep && !(r == '\r' && opt.UnifyNewlines) {
				t.Fatalf("original rune %q was deleted under %+v (in %q)", r, opt, s)
			}
		}
	}
	for i := range nm.Runes {
		rs, re := nm.OriginalRunes(i, i+1)
		bs, be := nm.OriginalBytes(i, i+1)
		if rs < nextRune || re != rs+1 || bs < nextByte {
			t.Fatalf("normalised rune %d maps to [%d, %d) bytes [%d, %d): not one rune after the previous one", i, rs, re, bs, be)
		}
		deleted(rs, bs)
		if r, size := utf8.DecodeRuneInString(s[bs:]); r != orig[rs] || bs+size != be {
			t.Fatalf("normalised rune %d: bytes [%d, %d) are not original rune %d %q", i, bs, be, rs, orig[rs])
		}
		if !isSpace(orig[rs]) && nm.Runes[i] != opt.mapRune(orig[rs]) {
			t.Fatalf("normalised rune %d is %q, want %q mapped from %q", i, nm.Runes[i], opt.mapRune(orig[rs]), orig[rs])
		}
		if s, e := nm.ToNormalized(rs, re); s != i || e != i+1 {
			t.Fatalf("ToNormalized(%d, %d) = (%d, %d), want (%d, %d)", rs, re, s, e, i, i+1)
		}
		nextRune, nextByte = re, be
	}
	deleted(len(orig), len(s))

	// Each whitespace run of the original survives as one rune, or not at all.
	runs, spaces := 0, 0
	for i, r := range orig {
		if isSpace(r) && (i == 0 || !isSpace(orig[i-1])) {
			runs++
		}
	}
	for _, r := range nm.Runes {
		if isSpace(r) {
			spaces++
		}
	}
	switch {
	case opt.Whitespace == WhitespaceCollapse && spaces != runs:
		t.Fatalf("collapsing %q gave %d whitespace runes for %d runs", s, spaces, runs)
	case opt.Whitespace == WhitespaceRemove && spaces != 0:
		t.Fatalf("removing whitespace from %q left %d runes", s, spaces)
	}

	// Whole spans: the original slice by bytes equals the one by runes.
	n := len(nm.Runes)
	for _, sp := range [][2]int{{0, n}, {0, n / 2}, {n / 3, n}, {n / 3, n / 3}, {n, n}} {
		rs, re := nm.OriginalRunes(sp[0], sp[1])
		bs, be := nm.OriginalBytes(sp[0], sp[1])
		if string(orig[rs:re]) != s[bs:be] {
			t.Fatalf("span %v: runes [%d, %d) %q, bytes [%d, %d) %q", sp, rs, re, string(orig[rs:re]), bs, be, s[bs:be])
		}
		if sp[0] < sp[1] {
			if s, e := nm.ToNormalized(rs, re); s != sp[0] || e != sp[1] {
				t.Fatalf("ToNormalized(OriginalRunes%v) = (%d, %d)", sp, s, e)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", "  头痛 \t 发热\r\n咳嗽  ", "ＡＢＣ１２３（）“”", "e\u0301😀\ufeff", "a\r\r\n\u2028 b", "\xff", "中\xe4\xb8",
	} {
		f.Add(s, uint8(0xff))
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, flags uint8) {
		opt := Options{
			FoldWidth:     flags&1 != 0,
			UnifyPunct:    flags&2 != 0,
			Lower:         flags&4 != 0,
			UnifyNewlines: flags&8 != 0,
			Whitespace:    WhitespaceMode(flags>>4) % 3,
		}
		nm, err := Normalize(s, opt)
		if !utf8.ValidString(s) {
			var ue *InvalidUTF8Error
			if !errors.As(err, &ue) || !utf8.ValidString(s[:ue.Offset]) {
				t.Fatalf("Normalize(%q): error %v does not locate the first invalid byte", s, err)
			}
			if r, size := utf8.DecodeRuneInString(s[ue.Offset:]); r != utf8.RuneError || size != 1 {
				t.Fatalf("Normalize(%q): error %v does not locate the first invalid byte", s, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkNormalized(t, s, opt, nm)
		if opt == (Options{}) && nm.Text != s {
			t.Fatalf("zero Options changed %q to %q", s, nm.Text)
		}
		if opt == DefaultOptions() {
			again, err := Normalize(nm.Text, opt)
			if err != nil || again.Text != nm.Text {
				t.Fatalf("default normalisation is not idempotent: %q -> %q -> %q", s, nm.Text, again.Text)
			}
		}
	})
}
