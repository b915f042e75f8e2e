package deid

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/internal/datadir"
)

// scanners lists every pattern Detect scans a document with.
var scanners = map[string]*scanner{
	"NameStrong": reNameStrong, "NameWeak": reNameWeak, "Title": reTitle, "Field": reField,
	"AddrLabel": reAddrLabel, "HospSuffix": reHospSuffix, "Email": reEmail, "URL": reURL,
	"IP": reIP, "IDNum": reIDNum, "IDLabel": reIDLabel, "Mobile": reMobile,
	"Landline": reLandline, "PhoneLbl": rePhoneLbl, "MRN": reMRN, "Bed": reBed,
	"DateCN": reDateCN, "DateMD": reDateMD, "DateNum": reDateNum, "DateMDY": reDateMDY,
	"DateHan": reDateHan, "DateHMD": reDateHMD, "Time": reTime, "TimeWord": reTimeWord,
	"Age": reAge, "AgeLabel": reAgeLabel, "AgeHan": reAgeHan,
}

// checkScanners fails when any scanner's matches on s differ from its regexp's.
func checkScanners(t *testing.T, s string) {
	t.Helper()
	norm, err := text.Normalize(s, text.Options{FoldWidth: true, UnifyPunct: true})
	if err != nil {
		return
	}
	d := newDoc(norm.Text)
	for name, sc := range scanners {
		got, want := sc.findAll(d), sc.re.FindAllStringSubmatchIndex(d.str, -1)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s on %q:\n got %v\nwant %v", name, d.str, got, want)
		}
	}
}

func TestScannersMatchRegexp(t *testing.T) {
	texts := []string{
		"", "患者", "姓名:", "姓名：张三", "电话：", "tel:13912345678 TEL 13912345678 Phone:010-12345678",
		"住院号ZY2023 住院ID:ab12 患者id号 7 床号:3", "2023年3月18日 3月18日 2019-03-05 2019/3 3/18/2019 二〇二三年三月十八日 三月十八号",
		"上午 9:30 下午3点半 10时20分 晚 8:05:59", "58岁 3个月龄 12天龄 三十余岁 年龄：45岁 5.5岁3个月",
		"身份证号：11010519491231002X 110105194912310", "http://a.cn/x?y=1, www.bing.li. a.b@c.cn 1.2.3.4",
		"家庭住址：四川省成都市武侯区人民南路四段12号 来自北京", "北京协和医院心内科 当地医院", "主治医师王建华查房，护士长李丽",
		"：：：:: : \t:", "1391234567813912345678", strings.Repeat("患者姓名", 50),
	}
	for seed := uint64(1); seed <= 20; seed++ {
		texts = append(texts, benchRecord(200+int(seed)*150, seed))
	}
	for _, s := range texts {
		checkScanners(t, s)
	}
}

// TestScannersMatchRegexpOnData runs the comparison on every CCKS2017 and Yidu-S4K text
// (skipped without the data, and with -short).
func TestScannersMatchRegexpOnData(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := datadir.OrSkip(t)
	for _, src := range []struct{ dataset, path string }{
		{"ccks2017", filepath.Join(dir, "ner", "ccks2017")},
		{"yidu", filepath.Join(dir, "ner", "yidu_s4k")},
	} {
		ds, err := corpus.Read(src.dataset, src.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range ds.Docs {
			checkScanners(t, doc.Text)
		}
		t.Logf("%s: %d texts", src.dataset, len(ds.Docs))
	}
}

func FuzzScanners(f *testing.F) {
	f.Add("患者张三，电话：13912345678，2023年3月18日。")
	f.Add("住院号ZY2023 tel:010-12345678 58岁 上午9:30")
	f.Fuzz(func(t *testing.T, s string) { checkScanners(t, s) })
}
