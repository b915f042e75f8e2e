package deid

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Mode is how Mask replaces PHI.
type Mode string

// The masking modes.
const (
	ModeTag       Mode = "tag"
	ModeSurrogate Mode = "surrogate"
	ModeMask      Mode = "mask"
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeTag, ModeSurrogate, ModeMask:
		return m, nil
	}
	return "", fmt.Errorf("deid: unknown mode %q (want tag, surrogate or mask)", s)
}

// Tags maps each category to its replacement in ModeTag.
var Tags = map[Category]string{
	Name: "[姓名]", Age: "[年龄]", Date: "[日期]", Phone: "[电话]", ID: "[身份证号]", MRN: "[病案号]",
	Address: "[地址]", Hospital: "[医院]", Email: "[邮箱]", URL: "[网址]", IP: "[IP地址]",
}

// Mask returns text with every span replaced according to mode. Spans are rune offsets into
// text (as Detect returns them), in any order, and must not overlap. In ModeSurrogate one
// document is one call: seed fixes every random choice.
func Mask(text string, spans []Span, mode Mode, seed uint64) (string, error) {
	if !utf8.ValidString(text) {
		return "", fmt.Errorf("deid: %w", ErrInvalidUTF8)
	}
	if _, err := ParseMode(string(mode)); err != nil {
		return "", err
	}
	rs := []rune(text)
	sp := append([]Span(nil), spans...)
	sort.Slice(sp, func(i, j int) bool { return sp[i].Start < sp[j].Start })
	for i, s := range sp {
		if s.Start < 0 || s.End > len(rs) || s.Start >= s.End {
			return "", fmt.Errorf("deid: span %d [%d, %d) outside the text of %d runes", i, s.Start, s.End, len(rs))
		}
		if i > 0 && s.Start < sp[i-1].End {
			return "", fmt.Errorf("deid: spans [%d, %d) and [%d, %d) overlap", sp[i-1].Start, sp[i-1].End, s.Start, s.End)
		}
		if _, ok := Tags[s.Category]; !ok {
			return "", fmt.Errorf("deid: span %d: unknown category %q", i, s.Category)
		}
	}
	g := newSurrogates(seed)
	var b strings.Builder
	last := 0
	for _, s := range sp {
		b.WriteString(string(rs[last:s.Start]))
		orig := string(rs[s.Start:s.End])
		switch mode {
		case ModeTag:
			b.WriteString(Tags[s.Category])
		case ModeMask:
			for _, r := range rs[s.Start:s.End] {
				if r >= 0x2E80 {
					b.WriteRune('＊')
				} else {
					b.WriteRune('*')
				}
			}
		case ModeSurrogate:
			b.WriteString(g.get(s.Category, orig))
		}
		last = s.End
	}
	b.WriteString(string(rs[last:]))
	return b.String(), nil
}

// surrogates draws consistent fake values for one document.
type surrogates struct {
	rng   *rand.Rand
	shift int // days every date moves
	memo  map[string]string
}

func newSurrogates(seed uint64) *surrogates {
	rng := rand.New(rand.NewPCG(seed, 0x6465696473757272))
	shift := 30 + rng.IntN(336)
	if rng.IntN(2) == 0 {
		shift = -shift
	}
	return &surrogates{rng: rng, shift: shift, memo: map[string]string{}}
}

// get returns the surrogate for orig, the same one for the same category and text.
func (g *surrogates) get(c Category, orig string) string {
	key := string(c) + "\x00" + orig
	if v, ok := g.memo[key]; ok {
		return v
	}
	var v string
	switch c {
	case Name:
		v = g.name(utf8.RuneCountInString(orig))
	case Age:
		v = ageSurrogate(orig)
	case Date:
		v = g.date(orig)
	case Phone:
		v = g.phone(orig)
	case ID:
		v = g.id(orig)
	case MRN:
		v = g.mrn(orig)
	case Address:
		v = g.address()
	case Hospital:
		p := provinces[g.rng.IntN(len(provinces))]
		v = g.pick(cities[p]) + "第" + string([]rune("一二三四五六七八九")[g.rng.IntN(9)]) + "人民医院"
	case Email:
		v = g.letters(6) + "@example.com"
	case URL:
		v = "https://example.org/" + g.letters(6)
	case IP:
		v = fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
	}
	g.memo[key] = v
	return v
}

const givenChars = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力鹏宇浩晨欣怡佳琳雪梅兰凤春松林峰斌波宁"

func (g *surrogates) pick(a []string) string { return a[g.rng.IntN(len(a))] }

func (g *surrogates) name(n int) string {
	gc := []rune(givenChars)
	s := string([]rune(surnameList)[g.rng.IntN(100)])
	for i := 1; i < n; i++ {
		s += string(gc[g.rng.IntN(len(gc))])
	}
	return s
}

func (g *surrogates) letters(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return string(b)
}

func (g *surrogates) address() string {
	p := provinces[g.rng.IntN(len(provinces))]
	sfx := "省"
	switch p {
	case "北京", "天津", "上海", "重庆":
		sfx = "市"
	case "内蒙古", "广西", "西藏", "宁夏", "新疆":
		sfx = "自治区"
	case "香港", "澳门":
		sfx = "特别行政区"
	}
	gc := []rune(givenChars)
	road := string(gc[g.rng.IntN(len(gc))]) + string(gc[g.rng.IntN(len(gc))])
	return fmt.Sprintf("%s%s%s区%s路%d号", p, sfx, g.pick(cities[p]), road, 1+g.rng.IntN(300))
}

// ageSurrogate keeps ages up to 89 and reports older ages as 90 (the HIPAA Safe Harbor
// rule), so clinical meaning survives.
func ageSurrogate(orig string) string {
	return replaceNumbers(orig, func(n int, width int) string {
		if n > 89 {
			return "90"
		}
		return strconv.Itoa(n)
	})
}

// replaceNumbers rewrites each run of ASCII digits of s with f(value, width).
func replaceNumbers(s string, f func(n, width int) string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(f(atoi(s[i:j]), j-i))
		i = j
	}
	return b.String()
}

func (g *surrogates) digit() byte { return byte('0' + g.rng.IntN(10)) }

// phone keeps the shape: separators, a +86/86 prefix, the leading 0 of an area code and the
// 1 of a mobile number (whose second digit stays in 3–9); other digits are random.
func (g *surrogates) phone(orig string) string {
	b := []byte(orig)
	var pos []int
	for i, c := range b {
		if c >= '0' && c <= '9' {
			pos = append(pos, i)
		}
	}
	if len(pos) >= 13 && b[pos[0]] == '8' && b[pos[1]] == '6' {
		pos = pos[2:]
	}
	for k, i := range pos {
		switch {
		case k == 0 && (b[i] == '0' || b[i] == '1'):
		case k == 1 && b[pos[0]] == '1':
			b[i] = byte('3' + g.rng.IntN(7))
		default:
			b[i] = g.digit()
		}
	}
	return string(b)
}

var regionCodes = []string{"110101", "110105", "120101", "310104", "320102", "330106", "370102", "420106", "440106", "440305", "510107", "610113"}

// id draws a resident ID of the same length: a real region code, the birth date shifted like
// every other date of the document, a random sequence and (18 digits) a valid check character.
func (g *surrogates) id(orig string) string {
	region := g.pick(regionCodes)
	birth := time.Date(1950+g.rng.IntN(50), time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), 0, 0, 0, 0, time.UTC)
	if ValidResidentID(orig) {
		if len(orig) == 18 {
			birth = time.Date(atoi(orig[6:10]), time.Month(atoi(orig[10:12])), atoi(orig[12:14]), 0, 0, 0, 0, time.UTC)
		} else {
			birth = time.Date(1900+atoi(orig[6:8]), time.Month(atoi(orig[8:10])), atoi(orig[10:12]), 0, 0, 0, 0, time.UTC)
		}
		birth = birth.AddDate(0, 0, g.shift)
	}
	seq := fmt.Sprintf("%03d", g.rng.IntN(1000))
	if utf8.RuneCountInString(orig) == 15 {
		return region + birth.Format("060102") + seq
	}
	d17 := region + birth.Format("20060102") + seq
	return d17 + string(idCheck(d17))
}

// mrn replaces each digit and letter by a random one of the same kind and case.
func (g *surrogates) mrn(orig string) string {
	b := []byte(orig)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			b[i] = g.digit()
		case c >= 'a' && c <= 'z':
			b[i] = byte('a' + g.rng.IntN(26))
		case c >= 'A' && c <= 'Z':
			b[i] = byte('A' + g.rng.IntN(26))
		}
	}
	return string(b)
}
