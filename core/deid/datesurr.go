package deid

import (
	"strconv"
	"strings"
	"time"
)

// dateTok is a number inside a date span: runes [s, e), its value, whether it is written in
// Chinese numerals, and its role: 'y', 'm', 'd' or 0 (a time of day or unknown: kept).
type dateTok struct {
	s, e int
	val  int
	han  bool
	role byte
}

const hanDigits = "〇一二三四五六七八九"

func hanDigit(r rune) int {
	switch r {
	case '零', '○', '〇':
		return 0
	}
	i := strings.IndexRune(hanDigits, r)
	if i < 0 {
		return -1
	}
	return i / 3 // every Han digit is 3 bytes in UTF-8
}

func asciiDigit(r rune) int {
	switch {
	case r >= '0' && r <= '9':
		return int(r - '0')
	case r >= '０' && r <= '９':
		return int(r - '０')
	}
	return -1
}

// dateTokens finds the numbers of a date span and their roles.
func dateTokens(rs []rune) []dateTok {
	var ts []dateTok
	for i := 0; i < len(rs); {
		j, v := i, 0
		han := false
		for j < len(rs) && asciiDigit(rs[j]) >= 0 {
			v = v*10 + asciiDigit(rs[j])
			j++
		}
		if j == i {
			for j < len(rs) && (rs[j] == '十' || hanDigit(rs[j]) >= 0) {
				j++
			}
			han = j > i
			v = hanValue(rs[i:j])
		}
		if j == i {
			i++
			continue
		}
		ts = append(ts, dateTok{s: i, e: j, val: v, han: han})
		i = j
	}
	for k := range ts {
		var next rune
		if ts[k].e < len(rs) {
			next = rs[ts[k].e]
		}
		switch next {
		case '年':
			ts[k].role = 'y'
		case '月':
			ts[k].role = 'm'
		case '日', '号':
			ts[k].role = 'd'
		}
	}
	// Numeric forms: Y-M-D (a 4-digit first number) or M/D/Y (a 4-digit last number).
	if len(ts) >= 2 && ts[0].role == 0 && ts[1].role == 0 && !strings.ContainsAny(string(rs), ":：时点分") {
		switch {
		case ts[0].e-ts[0].s == 4:
			ts[0].role, ts[1].role = 'y', 'm'
			if len(ts) > 2 {
				ts[2].role = 'd'
			}
		case len(ts) == 3 && ts[2].e-ts[2].s == 4:
			ts[0].role, ts[1].role, ts[2].role = 'm', 'd', 'y'
			if ts[0].val > 12 {
				ts[0].role, ts[1].role = 'd', 'm'
			}
		}
	}
	return ts
}

// hanValue reads a Chinese numeral: digit by digit (二〇一九) or with 十 (二十五).
func hanValue(rs []rune) int {
	v, cur := 0, 0
	for _, r := range rs {
		if r == '十' {
			if cur == 0 {
				cur = 1
			}
			v += cur * 10
			cur = 0
			continue
		}
		if len(rs) >= 3 && !strings.ContainsRune(string(rs), '十') { // a digit string
			v = v*10 + hanDigit(r)
			continue
		}
		cur = hanDigit(r)
	}
	return v + cur
}

// hanFormat writes n in Chinese numerals: digit by digit for years, with 十 otherwise.
func hanFormat(n int, year bool) string {
	d := []rune(hanDigits)
	if year {
		var b strings.Builder
		for _, c := range strconv.Itoa(n) {
			b.WriteRune(d[c-'0'])
		}
		return b.String()
	}
	switch {
	case n < 10:
		return string(d[n])
	case n == 10:
		return "十"
	case n < 20:
		return "十" + string(d[n-10])
	case n%10 == 0:
		return string(d[n/10]) + "十"
	}
	return string(d[n/10]) + "十" + string(d[n%10])
}

// date shifts the date in orig by the document's offset and writes it in the same form.
// Times of day and spans without a year, month or day are returned unchanged.
func (g *surrogates) date(orig string) string {
	rs := []rune(orig)
	ts := dateTokens(rs)
	y, m, d := 2001, 7, 15 // stand-ins for missing parts (2001: not a leap year)
	found := false
	for _, t := range ts {
		switch t.role {
		case 'y':
			y, found = t.val, true
			if t.e-t.s == 2 {
				y += 2000
			}
		case 'm':
			m, found = t.val, true
		case 'd':
			d, found = t.val, true
		}
	}
	if !found || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return orig
	}
	nt := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.shift)
	var b strings.Builder
	last := 0
	for _, t := range ts {
		b.WriteString(string(rs[last:t.s]))
		last = t.e
		var v int
		switch t.role {
		case 'y':
			v = nt.Year()
		case 'm':
			v = int(nt.Month())
		case 'd':
			v = nt.Day()
		default:
			b.WriteString(string(rs[t.s:t.e]))
			continue
		}
		switch {
		case t.han:
			b.WriteString(hanFormat(v, t.role == 'y'))
		case t.role == 'y' && t.e-t.s == 2:
			b.WriteString(pad(v%100, 2))
		case t.e-t.s >= 2 && asciiDigit(rs[t.s]) == 0 || t.role == 'y':
			b.WriteString(pad(v, t.e-t.s))
		default:
			b.WriteString(strconv.Itoa(v))
		}
	}
	b.WriteString(string(rs[last:]))
	return b.String()
}

func pad(v, w int) string {
	s := strconv.Itoa(v)
	for len(s) < w {
		s = "0" + s
	}
	return s
}
