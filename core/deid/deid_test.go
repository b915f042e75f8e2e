package deid

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// has reports whether spans hold exactly want as category c.
func has(spans []Span, c Category, want string) bool {
	for _, s := range spans {
		if s.Category == c && s.Text == want {
			return true
		}
	}
	return false
}

func TestDetectPositives(t *testing.T) {
	tests := []struct {
		text string
		cat  Category
		want string
	}{
		{"姓名：李建华，性别：男", Name, "李建华"},
		{"患者张三，男，45岁", Name, "张三"},
		{"患者于宝珍，女性，70岁", Name, "于宝珍"},
		{"主治医生欧阳明，查看患者", Name, "欧阳明"},
		{"王建国主任医师查房", Name, "王建国"},
		{"请李主任会诊", Name, "李"},
		{"患者张三，男，45岁", Age, "45岁"},
		{"患儿3岁2月，发热", Age, "3岁2月"},
		{"8月龄男婴", Age, "8月龄"},
		{"年龄：67", Age, "67"},
		{"于2019年3月5日入院", Date, "2019年3月5日"},
		{"于2019-03-05入院", Date, "2019-03-05"},
		{"于2019/3/5入院", Date, "2019/3/5"},
		{"于３月５日入院", Date, "３月５日"},
		{"二〇一九年三月出院", Date, "二〇一九年三月"},
		{"于19:30出现胸痛", Date, "19:30"},
		{"下午3时复查", Date, "下午3时"},
		{"手机13812345678", Phone, "13812345678"},
		{"电话：010-62345678", Phone, "010-62345678"},
		{"联系(0571)87654321", Phone, "(0571)87654321"},
		{"身份证11010519491231002X", ID, "11010519491231002X"},
		{"证号110105491231002", ID, "110105491231002"},
		{"住院号：ZY20190012，", MRN, "ZY20190012"},
		{"病案号 123456", MRN, "123456"},
		{"住12床", MRN, "12床"},
		{"住址：浙江省杭州市西湖区文三路90号3单元501室。", Address, "浙江省杭州市西湖区文三路90号3单元501室"},
		{"双滦区应营子村人", Address, "双滦区应营子村"},
		{"就诊于北京协和医院心内科，", Hospital, "北京协和医院心内科"},
		{"转至湘雅医院", Hospital, "湘雅医院"},
		{"送至湘雅医院急诊科抢救", Hospital, "湘雅医院急诊科"},
		{"于协和医院门诊部复诊", Hospital, "协和医院门诊部"},
		{"于协和医院就诊", Hospital, "协和医院"},
		{"家住河北省唐山市王家屯村3组。", Address, "河北省唐山市王家屯村3组"},
		{"住址：山东省济南市李庄路12号。", Address, "山东省济南市李庄路12号"},
		{"邮箱a.b@x.com。", Email, "a.b@x.com"},
		{"见http://www.x.cn/a。", URL, "http://www.x.cn/a"},
		{"服务器192.168.1.1。", IP, "192.168.1.1"},
	}
	for _, tc := range tests {
		spans, err := Detect(tc.text, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !has(spans, tc.cat, tc.want) {
			t.Errorf("%q: want %s %q, got %+v", tc.text, tc.cat, tc.want, spans)
		}
	}
}

func TestDetectNegatives(t *testing.T) {
	for _, s := range []string{
		"血红蛋白120g/L，血小板250×10^9/L",
		"阿莫西林0.5g 口服 3次/日",
		"2型糖尿病10年",
		"患者高血压病史10年",
		"王不留行10g，煎服",
		"患者于3天前出现咳嗽",
		"编号110105194912310021", // bad check character
		"值班医生查看患者",
		"当地医院诊断为肺炎",
		"县人民医院就诊",
		"心前区不适",
		"比例1.5，3.2mmol/L",
		"主任医师查房",
	} {
		spans, err := Detect(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) > 0 {
			t.Errorf("%q: want nothing, got %+v", s, spans)
		}
	}
}

func TestProtected(t *testing.T) {
	s := "患者白斑，住院号：12345"
	spans, _ := Detect(s, Options{})
	if !has(spans, Name, "白斑") {
		t.Fatalf("unprotected: want the (wrong) name, got %+v", spans)
	}
	spans, _ = Detect(s, Options{Protected: []Range{{2, 4}, {7, 12}}})
	if has(spans, Name, "白斑") || !has(spans, MRN, "12345") {
		t.Errorf("protected: got %+v", spans)
	}
	spans, _ = Detect("送检：四川省肿瘤医院。", Options{Protected: []Range{{6, 8}}})
	if !has(spans, Hospital, "四川省肿瘤医院") {
		t.Errorf("a protected word inside a hospital name: got %+v", spans)
	}
	// After an address label, a protected span that starts on the label is a tagger's
	// mistake; one that leaves the address at its end still drops it.
	addr := "地址：天津市坝槐区枫翠小区25号楼173室。"
	for _, tt := range []struct {
		prot []Range
		kept bool
	}{
		{[]Range{{0, 11}}, true},   // 地址：天津市坝槐区枫翠, the lite model's "treatment"
		{[]Range{{2, 24}}, true},   // from the colon past the end
		{[]Range{{3, 6}}, true},    // inside
		{[]Range{{20, 25}}, false}, // from inside past the end
	} {
		spans, _ := Detect(addr, Options{Protected: tt.prot})
		if got := has(spans, Address, "天津市坝槐区枫翠小区25号楼173室"); got != tt.kept {
			t.Errorf("%s protected %v: address kept %v, want %v (%+v)", addr, tt.prot, got, tt.kept, spans)
		}
	}
	spans, _ = Detect("送往天津市第一医院。", Options{Protected: []Range{{0, 5}}})
	if has(spans, Hospital, "天津市第一医院") {
		t.Errorf("a hospital crossed at its start by a protected span is dropped: got %+v", spans)
	}
}

// TestProtectAfterDetect checks the contract the browser relies on to detect PHI in parallel
// with tagging: protecting after detection gives what detecting with protection gives.
func TestProtectAfterDetect(t *testing.T) {
	tests := []struct {
		text string
		prot []Range
	}{
		{"患者白斑，住院号：12345", []Range{{2, 4}, {7, 12}}},
		{"送检：四川省肿瘤医院。", []Range{{6, 8}}},
		{"送检：四川省肿瘤医院。", []Range{{4, 11}}},
		{"患者张三，男，45岁，住址：浙江省杭州市西湖区文三路90号，电话13812345678。", []Range{{16, 18}, {0, 2}, {2, 4}}},
		{"主治医师王建华查房，诊断：高血压。", nil},
		{"地址：天津市坝槐区枫翠小区25号楼173室。", []Range{{0, 11}}},
		{"地址：天津市坝槐区枫翠小区25号楼173室。", []Range{{20, 25}}},
	}
	for _, tt := range tests {
		want, err := Detect(tt.text, Options{Protected: tt.prot})
		if err != nil {
			t.Fatal(err)
		}
		all, err := Detect(tt.text, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := Protect(all, tt.prot); !reflect.DeepEqual(got, want) {
			t.Errorf("%s, protected %v:\nProtect(Detect) %+v\nDetect(Protected) %+v", tt.text, tt.prot, got, want)
		}
	}
}

func TestOffsetsAndOverlap(t *testing.T) {
	s := "𝄞患者张三，见http://192.168.1.1/x"
	spans, err := Detect(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs := []rune(s)
	for _, sp := range spans {
		if string(rs[sp.Start:sp.End]) != sp.Text {
			t.Errorf("span %+v does not match the text", sp)
		}
	}
	if !has(spans, URL, "http://192.168.1.1/x") || has(spans, IP, "192.168.1.1") {
		t.Errorf("the longer URL should win: %+v", spans)
	}
	if _, err := Detect("a\xffb", Options{}); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: err = %v", err)
	}
}

func TestMaskModes(t *testing.T) {
	s := "患者张三，于2019年3月5日入院，2019-03-08手术。张三电话13812345678。"
	spans, err := Detect(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := Mask(s, spans, ModeTag, 1)
	if want := "患者[姓名]，于[日期]入院，[日期]手术。[姓名]电话[电话]。"; tag != want {
		t.Errorf("tag: %q, want %q", tag, want)
	}
	m, _ := Mask(s, spans, ModeMask, 1)
	if utf8.RuneCountInString(m) != utf8.RuneCountInString(s) || !strings.Contains(m, "患者＊＊，") || !strings.Contains(m, "***********") {
		t.Errorf("mask: %q", m)
	}
	a, _ := Mask(s, spans, ModeSurrogate, 7)
	b, _ := Mask(s, spans, ModeSurrogate, 7)
	if a != b || strings.Contains(a, "张三") || strings.Contains(a, "13812345678") {
		t.Fatalf("surrogate: %q / %q", a, b)
	}
	out, _ := Detect(a, Options{})
	var names, dates []string
	for _, sp := range out {
		switch sp.Category {
		case Name:
			names = append(names, sp.Text)
		case Date:
			dates = append(dates, sp.Text)
		}
	}
	if len(names) != 2 || names[0] != names[1] {
		t.Errorf("surrogate names not consistent: %q in %q", names, a)
	}
	if len(dates) != 2 {
		t.Fatalf("surrogate dates: %q in %q", dates, a)
	}
	g := newSurrogates(7)
	d1 := g.date("2019年3月5日")
	d2 := g.date("2019-03-08")
	y1, m1, dd1 := parts(dateTokens([]rune(d1)))
	y2, m2, dd2 := parts(dateTokens([]rune(d2)))
	if diff := dayNum(y2, m2, dd2) - dayNum(y1, m1, dd1); diff != 3 {
		t.Errorf("interval %d days after shifting (%s, %s), want 3", diff, d1, d2)
	}
	if h := g.date("二〇一九年三月五日"); !strings.HasSuffix(h, "日") || strings.ContainsAny(h, "0123456789") {
		t.Errorf("Chinese-numeral date surrogate %q", h)
	}
	if id := g.id("11010519491231002X"); !ValidResidentID(id) {
		t.Errorf("surrogate ID %q has an invalid checksum", id)
	}
	if p := g.phone("138-1234-5678"); len(p) != 13 || p[0] != '1' || p[3] != '-' {
		t.Errorf("surrogate phone %q", p)
	}
	if _, err := Mask(s, []Span{{0, 3, Name, "", ""}, {2, 4, Name, "", ""}}, ModeTag, 1); err == nil {
		t.Error("overlapping spans accepted")
	}
	if _, err := Mask(s, spans, "nope", 1); err == nil {
		t.Error("unknown mode accepted")
	}
}

func parts(ts []dateTok) (y, m, d int) {
	for _, t := range ts {
		switch t.role {
		case 'y':
			y = t.val
		case 'm':
			m = t.val
		case 'd':
			d = t.val
		}
	}
	return
}

func dayNum(y, m, d int) int {
	n := 0
	for yy := 1900; yy < y; yy++ {
		n += 365
		if daysIn(yy, 2) == 29 {
			n++
		}
	}
	for mm := 1; mm < m; mm++ {
		n += daysIn(y, mm)
	}
	return n + d
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"患者张三，男，45岁，住院号：ZY2019，于2019年3月5日入院。", "住址：浙江省杭州市西湖区文三路90号", "11010519491231002X 13812345678 a@b.cn", "北京协和医院心内科", "二〇一九年三月五日下午3时"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans, err := Detect(s, Options{Protected: []Range{{1, 3}}})
		if err != nil {
			if utf8.ValidString(s) {
				t.Fatalf("valid text refused: %v", err)
			}
			return
		}
		all, err := Detect(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := Protect(all, []Range{{1, 3}}); !reflect.DeepEqual(got, spans) {
			t.Fatalf("Protect after Detect %+v, Detect with protection %+v", got, spans)
		}
		rs := []rune(s)
		for i, sp := range spans {
			if sp.Start < 0 || sp.End > len(rs) || sp.Start >= sp.End || string(rs[sp.Start:sp.End]) != sp.Text {
				t.Fatalf("bad span %+v", sp)
			}
			if i > 0 && sp.Start < spans[i-1].End {
				t.Fatalf("overlap %+v %+v", spans[i-1], sp)
			}
		}
		for _, m := range []Mode{ModeTag, ModeMask, ModeSurrogate} {
			if _, err := Mask(s, spans, m, 3); err != nil {
				t.Fatalf("mask %s: %v", m, err)
			}
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add("2019年3月5日", 0, 10, "DATE", uint64(1))
	f.Add("电话13812345678", 2, 13, "PHONE", uint64(2))
	f.Add("身份证11010519491231002X", 3, 21, "ID", uint64(3))
	f.Fuzz(func(t *testing.T, s string, start, end int, cat string, seed uint64) {
		for _, m := range []Mode{ModeTag, ModeMask, ModeSurrogate} {
			out, err := Mask(s, []Span{{Start: start, End: end, Category: Category(cat)}}, m, seed)
			if err == nil && m == ModeMask && utf8.RuneCountInString(out) != utf8.RuneCountInString(s) {
				t.Fatalf("mask changed the length: %q → %q", s, out)
			}
		}
	})
}
