package deid

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/bingli/bingli/core/text"
)

// Category is a kind of protected health information.
type Category string

// The categories Detect reports.
const (
	Name     Category = "NAME"
	Age      Category = "AGE"
	Date     Category = "DATE"
	Phone    Category = "PHONE"
	ID       Category = "ID"
	MRN      Category = "MRN"
	Address  Category = "ADDRESS"
	Hospital Category = "HOSPITAL"
	Email    Category = "EMAIL"
	URL      Category = "URL"
	IP       Category = "IP"
)

// Categories lists every category in overlap-priority order (earlier wins a tie).
var Categories = []Category{Email, URL, IP, ID, Phone, MRN, Date, Age, Hospital, Address, Name}

// Span is one detection: runes [Start, End) of the original text (end exclusive).
type Span struct {
	Start    int      `json:"start"`
	End      int      `json:"end"`
	Category Category `json:"category"`
	// Rule names the rule (or model) that found the span, e.g. "id-checksum".
	Rule string `json:"rule"`
	Text string `json:"text"`
}

// Range is a half-open rune interval [Start, End) of the original text.
type Range struct{ Start, End int }

// Options controls Detect.
type Options struct {
	// Protected are spans (original rune offsets) of medical entities, e.g. from a tagger.
	// A NAME overlapping any of them is dropped; an ADDRESS or HOSPITAL is dropped when a
	// protected span crosses its boundary (one wholly inside, like 肿瘤 in 省肿瘤医院, is part
	// of the name), except that an ADDRESS after an address label (rule "address-label":
	// 地址：, 现住 …) ignores spans that start before it: such a span covers the label, which
	// no medical entity does, so it is a tagger's mistake (the lite model, never shown an
	// address, tags 地址：天津市坝槐区… as a treatment); structured detections (every other
	// category) are always kept.
	Protected []Range
	// Categories restricts detection to these categories; nil means all.
	Categories []Category
}

// ErrInvalidUTF8 is wrapped by the error Detect and Mask return for text that is not UTF-8.
var ErrInvalidUTF8 = errors.New("text is not valid UTF-8")

// Detect finds the PHI in s and returns non-overlapping spans in order of start.
func Detect(s string, opts Options) ([]Span, error) {
	norm, err := text.Normalize(s, text.Options{FoldWidth: true, UnifyPunct: true})
	if err != nil {
		return nil, fmt.Errorf("deid: %w: %w", ErrInvalidUTF8, err)
	}
	d := newDoc(norm.Text)
	d.detectAll()
	want := map[Category]bool{}
	for _, c := range opts.Categories {
		want[c] = true
	}
	orig := []rune(s)
	var spans []Span
	for _, c := range resolve(d.cands) {
		if len(want) > 0 && !want[c.cat] {
			continue
		}
		os, oe := norm.OriginalRunes(c.s, c.e)
		spans = append(spans, Span{Start: os, End: oe, Category: c.cat, Rule: c.rule, Text: string(orig[os:oe])})
	}
	if len(opts.Protected) == 0 {
		if spans == nil {
			spans = []Span{}
		}
		return spans, nil
	}
	return Protect(spans, opts.Protected), nil
}

// Protect returns the spans that the protected medical-entity ranges leave standing, by the
// rule of Options.Protected. The overlap resolution happens before protection, so
// Detect(s, Options{Protected: p}) equals Protect(Detect(s, Options{}), p): detection may run
// while the tagger is still finding the entities (the browser does both in parallel Web
// Workers) and the protection be applied after.
func Protect(spans []Span, protected []Range) []Span {
	prot := append([]Range(nil), protected...)
	sort.Slice(prot, func(i, j int) bool { return prot[i].Start < prot[j].Start })
	kept := make([]Span, 0, len(spans))
	for _, sp := range spans {
		var drops func(r Range) bool
		switch {
		case sp.Category == Name:
			drops = func(Range) bool { return true }
		case sp.Category == Address && sp.Rule == "address-label":
			drops = func(r Range) bool { return r.Start >= sp.Start && r.End > sp.End }
		case sp.Category == Address || sp.Category == Hospital:
			drops = func(r Range) bool { return r.Start < sp.Start || r.End > sp.End }
		}
		if drops != nil && overlaps(prot, sp.Start, sp.End, drops) {
			continue
		}
		kept = append(kept, sp)
	}
	return kept
}

// overlaps reports whether a range of prot (sorted by start) that overlaps [s, e) drops
// the span.
func overlaps(prot []Range, s, e int, drops func(Range) bool) bool {
	i := sort.Search(len(prot), func(i int) bool { return prot[i].Start >= e })
	for j := i - 1; j >= 0; j-- {
		if prot[j].End > s && prot[j].Start < e && drops(prot[j]) {
			return true
		}
		if j < i-64 { // protected spans are short; look back a bounded distance
			break
		}
	}
	return false
}

// resolve implements the overlap rule: candidates are taken longest first (ties: category
// priority as in Categories, then earlier start) and a candidate overlapping one already
// taken is dropped. The result is sorted by start.
func resolve(cs []cand) []cand {
	prio := map[Category]int{}
	for i, c := range Categories {
		prio[c] = i
	}
	sort.SliceStable(cs, func(i, j int) bool {
		li, lj := cs[i].e-cs[i].s, cs[j].e-cs[j].s
		if li != lj {
			return li > lj
		}
		if cs[i].cat != cs[j].cat {
			return prio[cs[i].cat] < prio[cs[j].cat]
		}
		return cs[i].s < cs[j].s
	})
	var out []cand
	taken := map[int]bool{}
	for _, c := range cs {
		free := true
		for k := c.s; k < c.e; k++ {
			if taken[k] {
				free = false
				break
			}
		}
		if !free {
			continue
		}
		for k := c.s; k < c.e; k++ {
			taken[k] = true
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].s < out[j].s })
	return out
}

type cand struct {
	s, e int // normalised rune offsets
	cat  Category
	rule string
}

// doc is the normalised text being scanned.
type doc struct {
	str    string
	rs     []rune
	runeAt []int // byte offset → rune index (len(str)+1 entries)
	byteAt []int // rune index → byte offset (len(rs)+1 entries)
	cands  []cand
}

func newDoc(s string) *doc {
	d := &doc{str: s, runeAt: make([]int, len(s)+1)}
	i := 0
	for b := range s {
		d.runeAt[b] = i
		d.byteAt = append(d.byteAt, b)
		i++
	}
	d.runeAt[len(s)] = i
	d.byteAt = append(d.byteAt, len(s))
	d.rs = []rune(s)
	return d
}

func (d *doc) add(s, e int, cat Category, rule string) {
	if s < e {
		d.cands = append(d.cands, cand{s, e, cat, rule})
	}
}

func (d *doc) at(i int) rune {
	if i < 0 || i >= len(d.rs) {
		return 0
	}
	return d.rs[i]
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isAlnum(r rune) bool  { return isDigit(r) || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func isHan(r rune) bool    { return unicode.Is(unicode.Han, r) }
func isSpaceR(r rune) bool { return unicode.IsSpace(r) }

// eachMatch calls f with the rune offsets of group g of every match of sc's pattern.
func (d *doc) eachMatch(sc *scanner, g int, f func(s, e int, m []string)) {
	for _, loc := range sc.findAll(d) {
		if loc[2*g] < 0 {
			continue
		}
		m := make([]string, len(loc)/2)
		for k := range m {
			if loc[2*k] >= 0 {
				m[k] = d.str[loc[2*k]:loc[2*k+1]]
			}
		}
		f(d.runeAt[loc[2*g]], d.runeAt[loc[2*g+1]], m)
	}
}

// digitBounded reports whether [s, e) has no digit (and, when alnum, no ASCII letter)
// immediately before or after it.
func (d *doc) digitBounded(s, e int, alnum bool) bool {
	ok := func(r rune) bool {
		if alnum {
			return !isAlnum(r)
		}
		return !isDigit(r)
	}
	return ok(d.at(s-1)) && ok(d.at(e))
}

func (d *doc) detectAll() {
	d.detectEmailURLIP()
	d.detectID()
	d.detectPhone()
	d.detectMRN()
	d.detectDate()
	d.detectAge()
	d.detectHospital()
	d.detectAddress()
	d.detectName()
}

var (
	// Every rune of a long alphanumeric run could begin an e-mail, so the first-rune scan
	// would be quadratic in the run; FindAll stays linear, and only runs on text with an @.
	reEmail = regexpScanner(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	reURL   = mustScanner(`(?i)(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)
	reIP    = mustScanner(`\d{1,3}(?:\.\d{1,3}){3}`)
)

func (d *doc) detectEmailURLIP() {
	if strings.IndexByte(d.str, '@') >= 0 {
		d.eachMatch(reEmail, 0, func(s, e int, _ []string) { d.add(s, e, Email, "email") })
	}
	d.eachMatch(reURL, 0, func(s, e int, _ []string) {
		for e > s && strings.ContainsRune(".,;:!?)]'", d.rs[e-1]) {
			e--
		}
		d.add(s, e, URL, "url")
	})
	d.eachMatch(reIP, 0, func(s, e int, m []string) {
		if !d.digitBounded(s, e, false) || d.at(s-1) == '.' || d.at(e) == '.' && isDigit(d.at(e+1)) {
			return
		}
		for _, o := range strings.Split(m[0], ".") {
			if len(o) > 1 && o[0] == '0' || atoi(o) > 255 {
				return
			}
		}
		d.add(s, e, IP, "ipv4")
	})
}

// atoi converts a short run of ASCII digits (callers guarantee digits only).
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
		if n > 1e9 {
			return n
		}
	}
	return n
}

var (
	reIDNum   = mustScanner(`\d{17}[\dXx]|\d{15}`)
	reIDLabel = mustScanner(`(?:身份证|证件)(?:号码|号)?[:\s]*([\dXx]{15,18})`)
)

// ValidResidentID reports whether s is an 18-digit resident ID with a valid birth date and
// ISO 7064 MOD 11-2 check character, or a 15-digit legacy ID with a valid birth date.
func ValidResidentID(s string) bool {
	switch len(s) {
	case 18:
		for i := 0; i < 17; i++ {
			if !isDigit(rune(s[i])) {
				return false
			}
		}
		return validYMD(atoi(s[6:10]), atoi(s[10:12]), atoi(s[12:14])) && strings.EqualFold(s[17:], string(idCheck(s[:17])))
	case 15:
		for i := 0; i < 15; i++ {
			if !isDigit(rune(s[i])) {
				return false
			}
		}
		return validYMD(1900+atoi(s[6:8]), atoi(s[8:10]), atoi(s[10:12]))
	}
	return false
}

// idCheck computes the check character of the first 17 digits of a resident ID.
func idCheck(d17 string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(d17[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

func validYMD(y, m, day int) bool {
	if y < 1900 || y > 2099 || m < 1 || m > 12 || day < 1 {
		return false
	}
	return day <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func (d *doc) detectID() {
	d.eachMatch(reIDNum, 0, func(s, e int, m []string) {
		if d.digitBounded(s, e, true) && ValidResidentID(m[0]) {
			d.add(s, e, ID, "id-checksum")
		}
	})
	d.eachMatch(reIDLabel, 1, func(s, e int, _ []string) {
		if d.digitBounded(s, e, true) {
			d.add(s, e, ID, "id-label")
		}
	})
}

var (
	reMobile   = mustScanner(`(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}`)
	reLandline = mustScanner(`(?:\(0\d{2,3}\)|0\d{2,3}-)[ ]?\d{7,8}(?:-\d{1,4})?`)
	rePhoneLbl = mustScanner(`(?i)(?:电话|手机|联系方式|座机|tel|phone|电话号码|手机号码?)[:\s号码为是]*((?:\+?\d[\d\- ]{5,16}\d))`)
)

func (d *doc) detectPhone() {
	d.eachMatch(reMobile, 0, func(s, e int, _ []string) {
		if d.digitBounded(s, e, true) {
			d.add(s, e, Phone, "mobile")
		}
	})
	d.eachMatch(reLandline, 0, func(s, e int, _ []string) {
		if d.digitBounded(s, e, true) {
			d.add(s, e, Phone, "landline")
		}
	})
	d.eachMatch(rePhoneLbl, 1, func(s, e int, _ []string) {
		if d.digitBounded(s, e, true) {
			d.add(s, e, Phone, "phone-label")
		}
	})
}

var (
	reMRN = mustScanner(`(?i)(?:住院号码|住院号|病案号|病历号|门诊号|医保卡号|医保号|社保卡号|社保号|就诊卡号|登记号|检查号|影像号|床号|住院id|病人id|患者id|id号)[:\s]*([A-Za-z0-9\-]*\d[A-Za-z0-9\-]*)`)
	reBed = mustScanner(`\d{1,3}床`)
)

func (d *doc) detectMRN() {
	d.eachMatch(reMRN, 1, func(s, e int, _ []string) { d.add(s, e, MRN, "mrn-label") })
	d.eachMatch(reBed, 0, func(s, e int, _ []string) {
		if !isDigit(d.at(s-1)) && !isAlnum(d.at(s-1)) {
			d.add(s, e, MRN, "bed-number")
		}
	})
}

const cnDigits = "〇零○一二三四五六七八九十"

var (
	reDateCN   = mustScanner(`(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})[日号])?)?`)
	reDateMD   = mustScanner(`(\d{1,2})月(\d{1,2})[日号]`)
	reDateNum  = mustScanner(`(\d{4})([-/.])(\d{1,2})(?:([-/.])(\d{1,2}))?`)
	reDateMDY  = mustScanner(`(\d{1,2})/(\d{1,2})/(\d{4})`)
	reDateHan  = mustScanner(`[〇零○一二三四五六七八九]{4}年(?:[一二三四五六七八九十]{1,2}月(?:[一二三四五六七八九十]{1,3}[日号])?)?`)
	reDateHMD  = mustScanner(`[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}[日号]`)
	reTime     = mustScanner(`(?:(?:上午|下午|晚上|凌晨|中午|早上|早晨|夜间|傍晚|晚)\s*)?(\d{1,2}):(\d{2})(?::(\d{2}))?`)
	reTimeWord = mustScanner(`(?:上午|下午|晚上|凌晨|中午|早上|早晨|夜间|傍晚|晚)\s*(\d{1,2})[时点](?:(\d{1,2})分|半)?|(\d{1,2})[时点](\d{1,2})分`)
)

func (d *doc) detectDate() {
	d.eachMatch(reDateCN, 0, func(s, e int, m []string) {
		y := atoi(m[1])
		if !d.digitBounded(s, s+4, false) || y < 1900 || y > 2099 {
			return
		}
		if m[2] != "" && (atoi(m[2]) < 1 || atoi(m[2]) > 12) {
			return
		}
		if m[3] != "" && (atoi(m[3]) < 1 || atoi(m[3]) > 31) {
			return
		}
		d.add(s, e, Date, "date-ymd-cn")
	})
	d.eachMatch(reDateMD, 0, func(s, e int, m []string) {
		if d.digitBounded(s, e, false) && atoi(m[1]) >= 1 && atoi(m[1]) <= 12 && atoi(m[2]) >= 1 && atoi(m[2]) <= 31 {
			d.add(s, e, Date, "date-md-cn")
		}
	})
	d.eachMatch(reDateNum, 0, func(s, e int, m []string) {
		y, mo := atoi(m[1]), atoi(m[3])
		if !d.digitBounded(s, e, false) || y < 1900 || y > 2099 || mo < 1 || mo > 12 {
			return
		}
		if m[4] != "" {
			if m[4] != m[2] || atoi(m[5]) < 1 || atoi(m[5]) > 31 {
				return
			}
		} else if m[2] == "." || strings.ContainsRune("-/.", d.at(e)) && isDigit(d.at(e+1)) {
			return // "2019.3" reads as a number; "2019-3-" continues oddly
		}
		d.add(s, e, Date, "date-numeric")
	})
	d.eachMatch(reDateMDY, 0, func(s, e int, m []string) {
		a, b, y := atoi(m[1]), atoi(m[2]), atoi(m[3])
		if d.digitBounded(s, e, false) && y >= 1900 && y <= 2099 && a >= 1 && b >= 1 && (a <= 12 && b <= 31 || b <= 12 && a <= 31) {
			d.add(s, e, Date, "date-mdy")
		}
	})
	d.eachMatch(reDateHan, 0, func(s, e int, _ []string) { d.add(s, e, Date, "date-han") })
	d.eachMatch(reDateHMD, 0, func(s, e int, _ []string) { d.add(s, e, Date, "date-han-md") })
	d.eachMatch(reTime, 0, func(s, e int, m []string) {
		if d.digitBounded(s, e, false) && d.at(e) != ':' && atoi(m[1]) <= 24 && atoi(m[2]) <= 59 && (m[3] == "" || atoi(m[3]) <= 59) {
			d.add(s, e, Date, "time")
		}
	})
	d.eachMatch(reTimeWord, 0, func(s, e int, m []string) {
		h := m[1] + m[3]
		if d.digitBounded(s, e, false) && atoi(h) <= 24 && (m[2]+m[4] == "" || atoi(m[2]+m[4]) <= 59) {
			d.add(s, e, Date, "time-cn")
		}
	})
}

var (
	reAge      = mustScanner(`\d{1,3}(?:\.\d)?余?(?:周岁|岁)(?:\d{1,2}个?月)?|\d{1,2}个?月龄|\d{1,3}天龄`)
	reAgeLabel = mustScanner(`年龄[:\s]*(\d{1,3}(?:岁|周岁)?)`)
	reAgeHan   = mustScanner(`[一二三四五六七八九十]{1,3}余?岁`)
)

func (d *doc) detectAge() {
	d.eachMatch(reAge, 0, func(s, e int, _ []string) {
		if d.digitBounded(s, e, false) && d.at(s-1) != '.' {
			d.add(s, e, Age, "age")
		}
	})
	d.eachMatch(reAgeLabel, 1, func(s, e int, _ []string) {
		if d.digitBounded(s, e, false) {
			d.add(s, e, Age, "age-label")
		}
	})
	d.eachMatch(reAgeHan, 0, func(s, e int, _ []string) { d.add(s, e, Age, "age-han") })
}
