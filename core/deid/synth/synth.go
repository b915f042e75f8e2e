// Package synth builds the de-identification benchmark: real clinical texts carry no PHI
// gold, so it injects surrogate PHI, written from templates, into them at sentence
// boundaries, records where every injected value lies, and moves the texts' medical-entity
// gold offsets past the insertions. Evaluate scores detections against that gold.
//
// # Held out from detector development
//
// The templates here were written separately from the unit tests of package deid and use
// phrasings those tests do not (审核, 随访联系人, 陪同, 送检单位 …); given-name characters,
// road/town/village names, e-mail domains and resident-ID region codes come from pools that
// neither the detector nor its tests use. Surnames and province/city names come from the
// detector's own lists (real names and places come from the same small sets), so NAME and
// ADDRESS recall here is an upper bound for names with rare surnames or places missing from
// the list.
//
// # Scores
//
// A gold value is found when every one of its runes lies inside detections of its category
// (and masked when inside detections of any category). A detection that overlaps an injected
// snippet is correct when it overlaps a gold value of its category; detections outside the
// snippets fall on the original text, which has real but unannotated PHI (dates, names,
// addresses), so they are counted per category but not judged. The false-masking rate is the
// share of gold medical-entity runes (union of all entities) that lie inside any detection.
package synth

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/text"
)

// Gold is one injected PHI value: runes [Start, End) of Doc.Text.
type Gold struct {
	Start, End int
	Category   deid.Category
}

// Doc is a clinical text with injected PHI.
type Doc struct {
	ID       string
	Text     string
	PHI      []Gold
	Injected []deid.Range    // the inserted snippets
	Entities []corpus.Entity // the source document's medical entities, moved
}

// templates hold {FIELD} placeholders; fields are listed in fill.
var templates = []string{
	"患者{NAME}，{SEX}，{AGE}，住院号：{MRN}，于{DATE}入院。",
	"姓名：{NAME}  性别：{SEX}  年龄：{AGE}  身份证号：{ID}。",
	"联系电话：{PHONE}，家庭住址：{ADDRESS}。",
	"{DATE}转入{HOSPITAL}进一步治疗。",
	"主治医师：{NAME}，审核：{NAME}。",
	"病案号{MRN}，床号：{BED}。",
	"患者于{DATE}在{HOSPITAL}行检查。",
	"如有疑问请发邮件至{EMAIL}或访问{URL}。",
	"影像资料存于{IP}，上传时间{TIME}。",
	"随访联系人{NAME}，手机{PHONE}。",
	"{NAME}主任医师查房后指示继续当前方案。",
	"现住{ADDRESS}。",
	"出生日期：{DATE}，门诊号：{MRN}。",
	"{DATE} {TIME}患者诉乏力。",
	"患儿{NAME}，{AGE}，由其母{NAME}陪同就诊。",
	"送检单位：{HOSPITAL}，地址：{ADDRESS}。",
	"联系护士{NAME}，座机{LANDLINE}。",
	"患者{NAME}，身份证{ID}，医保号{MRN}。",
	"{HOSPITAL}出院小结（{DATE}）。",
	"记录人：{NAME}，{DATE}。",
	"电话：{LANDLINE}，E-mail：{EMAIL}。",
	"患者{NAME}，{AGE}，{ADDRESS}人。",
}

var fieldCat = map[string]deid.Category{
	"NAME": deid.Name, "AGE": deid.Age, "MRN": deid.MRN, "BED": deid.MRN, "DATE": deid.Date,
	"TIME": deid.Date, "ID": deid.ID, "PHONE": deid.Phone, "LANDLINE": deid.Phone,
	"ADDRESS": deid.Address, "HOSPITAL": deid.Hospital, "EMAIL": deid.Email, "URL": deid.URL,
	"IP": deid.IP,
}

// Pools used only here (see the package doc).
const (
	givenPool = "志国庆秀兰海燕振华淑珍晓东宏德永强凤芝桂瑞雅婷思远嘉豪梓涵子轩俊熙雨萱一鸣家乐"
	placePool = "岭泉溪塘湾坪岗桥沟坝滩铺集屯坊湖枫柳杏槐榆荷竹松梧桐翠碧青"
)

var (
	regionPool = []string{"130102", "140105", "210102", "230103", "340104", "350203", "360102", "410105", "430104", "450103", "500103", "530102"}
	mailDomain = []string{"163.com", "qq.com", "126.com", "sina.com", "hospital.org.cn", "gmail.com"}
	depts      = []string{"心内科", "神经外科", "呼吸与危重症医学科", "消化内科", "骨科", "肿瘤科", "内分泌科", "急诊科"}
)

type gen struct{ rng *rand.Rand }

func (g gen) pick(a []string) string { return a[g.rng.IntN(len(a))] }
func (g gen) runeOf(s string) string {
	r := []rune(s)
	return string(r[g.rng.IntN(len(r))])
}

func (g gen) name() string {
	sn := deid.Surnames()
	s := sn[g.rng.IntN(200)]
	if g.rng.IntN(30) == 0 {
		s = sn[len(sn)-1-g.rng.IntN(10)] // a compound surname
	}
	for n := 1 + g.rng.IntN(2); n > 0; n-- {
		s += g.runeOf(givenPool)
	}
	return s
}

func (g gen) date() string {
	y, m, d := 1990+g.rng.IntN(35), 1+g.rng.IntN(12), 1+g.rng.IntN(28)
	han := func(n int) string {
		return []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"}[n]
	}
	switch g.rng.IntN(8) {
	case 0:
		return fmt.Sprintf("%d年%d月%d日", y, m, d)
	case 1:
		return fmt.Sprintf("%d-%02d-%02d", y, m, d)
	case 2:
		return fmt.Sprintf("%d/%d/%d", y, m, d)
	case 3:
		return fmt.Sprintf("%d.%02d.%02d", y, m, d)
	case 4:
		return fmt.Sprintf("%d月%d日", m, d)
	case 5:
		yy := ""
		for _, c := range fmt.Sprint(y) {
			yy += string([]rune("〇一二三四五六七八九")[c-'0'])
		}
		return yy + "年" + han(m) + "月"
	case 6:
		return fmt.Sprintf("%d年%d月", y, m)
	}
	return fmt.Sprintf("%d年%02d月%02d日", y, m, d)
}

func (g gen) time() string {
	h, mi := g.rng.IntN(24), g.rng.IntN(60)
	switch g.rng.IntN(3) {
	case 0:
		return fmt.Sprintf("%02d:%02d", h, mi)
	case 1:
		return fmt.Sprintf("%s%d时", g.pick([]string{"上午", "下午", "晚上"}), 1+g.rng.IntN(11))
	}
	return fmt.Sprintf("%d时%d分", h, mi)
}

func (g gen) digits(n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + g.rng.IntN(10)))
	}
	return b.String()
}

func (g gen) id() string {
	if g.rng.IntN(10) == 0 {
		return g.pick(regionPool) + fmt.Sprintf("%02d%02d%02d", 40+g.rng.IntN(59), 1+g.rng.IntN(12), 1+g.rng.IntN(28)) + g.digits(3)
	}
	d17 := g.pick(regionPool) + fmt.Sprintf("%d%02d%02d", 1930+g.rng.IntN(80), 1+g.rng.IntN(12), 1+g.rng.IntN(28)) + g.digits(3)
	sum := 0
	for i, w := range []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2} {
		sum += int(d17[i]-'0') * w
	}
	return d17 + string("10X98765432"[sum%11])
}

func (g gen) mobile() string {
	n := "1" + string(byte('3'+g.rng.IntN(7))) + g.digits(9)
	switch g.rng.IntN(4) {
	case 0:
		return n[:3] + "-" + n[3:7] + "-" + n[7:]
	case 1:
		return "+86 " + n
	}
	return n
}

func (g gen) landline() string {
	switch g.rng.IntN(3) {
	case 0:
		return "0" + g.digits(2) + "-" + g.digits(8)
	case 1:
		return "(0" + g.digits(3) + ")" + g.digits(7)
	}
	return "0" + g.digits(3) + "-" + g.digits(7)
}

func (g gen) mrn() string {
	switch g.rng.IntN(4) {
	case 0:
		return "ZY" + g.digits(8)
	case 1:
		return "MZ-" + g.digits(4) + "-" + g.digits(5)
	}
	return g.digits(6 + g.rng.IntN(5))
}

func (g gen) place() string { return g.runeOf(placePool) + g.runeOf(placePool) }

func (g gen) address() string {
	provs, _ := deid.Places()
	p := g.pick(provs)
	_, all := deid.Places()
	s := p + "省" + g.pick(all) + "市"
	switch p {
	case "北京", "天津", "上海", "重庆":
		s = p + "市"
	}
	s += g.place() + g.pick([]string{"区", "县"})
	switch g.rng.IntN(3) {
	case 0:
		s += g.place() + "镇" + g.place() + "村" + fmt.Sprint(1+g.rng.IntN(12)) + "组"
	case 1:
		s += g.place() + g.pick([]string{"路", "街", "大道"}) + fmt.Sprint(1+g.rng.IntN(400)) + "号"
		if g.rng.IntN(2) == 0 {
			s += fmt.Sprintf("%d栋%d单元%d室", 1+g.rng.IntN(30), 1+g.rng.IntN(6), 101+g.rng.IntN(2000))
		}
	default:
		s += g.place() + "小区" + fmt.Sprintf("%d号楼%d室", 1+g.rng.IntN(30), 101+g.rng.IntN(2000))
	}
	return s
}

func (g gen) hospital() string {
	_, all := deid.Places()
	c := g.pick(all)
	var s string
	switch g.rng.IntN(6) {
	case 0:
		s = c + "市第" + g.pick([]string{"一", "二", "三", "四"}) + "人民医院"
	case 1:
		s = c + "市中心医院"
	case 2:
		s = g.place() + "大学附属第" + g.pick([]string{"一", "二", "三"}) + "医院"
	case 3:
		s = c + "市中医院"
	case 4:
		s = g.place() + "镇卫生院"
	default:
		s = c + "省肿瘤医院"
	}
	if g.rng.IntN(3) == 0 {
		s += g.pick(depts)
	}
	return s
}

func (g gen) field(f string) string {
	switch f {
	case "NAME":
		return g.name()
	case "SEX":
		return g.pick([]string{"男", "女"})
	case "AGE":
		switch g.rng.IntN(4) {
		case 0:
			return fmt.Sprintf("%d月龄", 1+g.rng.IntN(11))
		case 1:
			return fmt.Sprintf("%d岁%d月", 1+g.rng.IntN(6), 1+g.rng.IntN(11))
		}
		return fmt.Sprintf("%d岁", 1+g.rng.IntN(99))
	case "MRN":
		return g.mrn()
	case "BED":
		return g.digits(1 + g.rng.IntN(2))
	case "DATE":
		return g.date()
	case "TIME":
		return g.time()
	case "ID":
		return g.id()
	case "PHONE":
		return g.mobile()
	case "LANDLINE":
		return g.landline()
	case "ADDRESS":
		return g.address()
	case "HOSPITAL":
		return g.hospital()
	case "EMAIL":
		return strings.ToLower(g.pick([]string{"zhang", "li", "wang", "chen", "liu"})) + g.digits(3) + "@" + g.pick(mailDomain)
	case "URL":
		return g.pick([]string{"http://", "https://"}) + "www." + g.pick([]string{"hosp", "yiyuan", "clinic"}) + g.digits(2) + ".com.cn/" + g.pick([]string{"report", "a/b", "index.html"})
	case "IP":
		return fmt.Sprintf("%d.%d.%d.%d", 10+g.rng.IntN(200), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
	}
	return f
}

// snippet fills one template; gold offsets are relative to the snippet.
func (g gen) snippet() (string, []Gold) {
	t := templates[g.rng.IntN(len(templates))]
	var b []rune
	var gold []Gold
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b = append(b, []rune(t)...)
			return string(b), gold
		}
		j := strings.IndexByte(t[i:], '}') + i
		b = append(b, []rune(t[:i])...)
		f := t[i+1 : j]
		v := []rune(g.field(f))
		if c, ok := fieldCat[f]; ok {
			gold = append(gold, Gold{len(b), len(b) + len(v), c})
		}
		b = append(b, v...)
		t = t[j+1:]
	}
}

// Inject inserts k snippets into doc at sentence boundaries that lie outside every entity.
func Inject(doc corpus.Document, k int, rng *rand.Rand) Doc {
	rs := []rune(doc.Text)
	inside := make([]bool, len(rs)+1)
	for _, e := range doc.Entities {
		for p := e.Start + 1; p < e.End; p++ {
			inside[p] = true
		}
	}
	cuts := []int{0}
	for _, p := range text.SplitSentences(rs, 256) {
		if p.End < len(rs) && !inside[p.End] {
			cuts = append(cuts, p.End)
		}
	}
	cuts = append(cuts, len(rs))
	pos := make([]int, k)
	for i := range pos {
		pos[i] = cuts[rng.IntN(len(cuts))]
	}
	sort.Ints(pos)
	g := gen{rng}
	out := Doc{ID: doc.ID}
	var b []rune
	last := 0
	for _, p := range pos {
		b = append(b, rs[last:p]...)
		last = p
		s, gold := g.snippet()
		for _, gd := range gold {
			out.PHI = append(out.PHI, Gold{gd.Start + len(b), gd.End + len(b), gd.Category})
		}
		n := len([]rune(s))
		out.Injected = append(out.Injected, deid.Range{Start: len(b), End: len(b) + n})
		b = append(b, []rune(s)...)
	}
	b = append(b, rs[last:]...)
	out.Text = string(b)
	for _, e := range doc.Entities {
		shift := 0
		for i, p := range pos {
			if p <= e.Start {
				shift += out.Injected[i].End - out.Injected[i].Start
			}
		}
		e.Start += shift
		e.End += shift
		out.Entities = append(out.Entities, e)
	}
	return out
}

// Generate injects 2–4 snippets into each of n documents drawn (with a seeded shuffle) from
// docs; documents without text are skipped.
func Generate(docs []corpus.Document, n int, seed uint64) []Doc {
	rng := rand.New(rand.NewPCG(seed, 0x73796e7468))
	idx := rng.Perm(len(docs))
	var out []Doc
	for _, i := range idx {
		if len(out) == n {
			break
		}
		if strings.TrimSpace(docs[i].Text) == "" {
			continue
		}
		out = append(out, Inject(docs[i], 2+rng.IntN(3), rng))
	}
	return out
}
