package deid

import (
	"regexp"
	"strings"
)

// nameStop holds runes that never occur in a given name here; they also end a name. The
// list mixes function words (因, 于, 在 …) and characters of medical words (炎, 痛, 血 …).
var nameStop = runeSet("患因于在自今主以为入系由之的等及和与同无有年性诉来经已曾昨近行出住就反突既现术被到去从向对说称均也又再并即共、男女岁月日天时后前伴不未可较很炎症病癌瘤痛肿伤咳痰尿便酸剂片液针丸汤血压糖热痒疹疮溃疡脓胸腹肺肝肾心脑骨诊查治疗院科室医护签名字号")

func runeSet(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// nameAt returns the end of a name starting at i (surname then one or two given-name runes),
// or -1. With needBoundary the name must be followed by a boundary (a non-Han rune, the end,
// or a nameStop rune), preferring the longer name; otherwise the longest name that is
// followed by a boundary, else the longest possible, is taken.
func (d *doc) nameAt(i int, needBoundary bool) int {
	g := i + 1
	if i+1 < len(d.rs) {
		for _, c := range compoundSurnames {
			if string(d.rs[i:i+2]) == c {
				g = i + 2
			}
		}
	}
	if g == i+1 && !surnames[d.at(i)] {
		return -1
	}
	n := 0
	for n < 2 && isHan(d.at(g+n)) && !nameStop[d.at(g+n)] {
		n++
	}
	boundary := func(j int) bool { r := d.at(j); return r == 0 || !isHan(r) || nameStop[r] }
	for k := n; k >= 1; k-- {
		if boundary(g + k) {
			return g + k
		}
	}
	if needBoundary || n == 0 {
		return -1
	}
	return g + n
}

var (
	// reNameStrong: labels after which a name is expected.
	reNameStrong = mustScanner(`(?:患者姓名|患儿姓名|姓名|主治医师|主治医生|住院医师|主任医师|主管医师|经治医师|上级医师|主诊医师|责任护士|护士长|医师签名|签名|记录者|记录人|报告人|审核人|审核者|陈述者|代诉人|联系人|家属|其父|其母|其子|其女|其夫|其妻|丈夫|妻子|医师|医生|护士|主治)[:\s]*`)
	// reNameWeak: labels after which a name may follow; the name must end at a boundary.
	reNameWeak = mustScanner(`(?:患者|病人|患儿|病员|伤者|产妇)`)
	// reTitle: titles that follow a name ("王建国主任医师", "李医生").
	reTitle = mustScanner(`副主任医师|主任医师|主治医师|住院医师|主管护师|副教授|护士长|医师|医生|大夫|护士|主任|教授|先生|女士|老师|同志`)
)

// nameBlock holds words that look like a surname and a given name after a label but are
// ordinary words ("医师查房").
var nameBlock = runeWords("查房 查体 查看 常规 包括 明显 明确 平素 方案 成功 安全 冷敷 温水 华法林 石膏 司机 农民 工人 干部 职员 教师 学生 退休 无业 个体 商人 军人 司机 向其 家属")

// blocked reports whether the name candidate [s, e) is or starts with a nameBlock word.
func (d *doc) blocked(s, e int) bool {
	return nameBlock[string(d.rs[s:e])] || e-s > 2 && nameBlock[string(d.rs[s:s+2])]
}

func runeWords(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// titleBlock holds two-rune words that often precede a title and are not names.
var titleBlock = map[string]bool{"值班": true, "主管": true, "经治": true, "床位": true, "管床": true, "实习": true, "进修": true, "接诊": true, "门诊": true, "急诊": true, "上级": true, "会诊": true, "手术": true, "麻醉": true, "责任": true, "专科": true, "全科": true, "乡村": true, "社区": true, "家庭": true, "科室": true, "主治": true, "住院": true, "病房": true, "护理": true, "首诊": true, "该": true}

func (d *doc) detectName() {
	d.eachMatch(reNameStrong, 0, func(_, e int, _ []string) {
		if end := d.nameAt(e, false); end > 0 && !d.blocked(e, end) && !hasRareGiven(d.rs[e:end]) {
			d.add(e, end, Name, "name-label")
		}
	})
	d.eachMatch(reNameWeak, 0, func(_, e int, _ []string) {
		if end := d.nameAt(e, true); end > 0 && !d.blocked(e, end) {
			if sc, ok := nameScore(d.rs[e:end]); ok && sc >= nameContextMin {
				d.add(e, end, Name, "name-context")
			}
		}
	})
	d.detectNameField()
	d.eachMatch(reTitle, 0, func(s, _ int, _ []string) {
		if s >= 2 && titleBlock[string(d.rs[s-2:s])] {
			return
		}
		for _, l := range []int{3, 2, 1} { // surname + given name, longest first
			st := s - l
			if st < 0 || isHan(d.at(st-1)) && !nameStop[d.at(st-1)] && l > 1 {
				continue
			}
			if end := d.nameAt(st, false); end == s || l == 1 && surnames[d.at(st)] {
				d.add(st, s, Name, "name-title")
				return
			}
		}
	})
	d.repeatNames()
}

// reField: a colon (after normalisation) with optional spaces after it.
var reField = mustScanner(`:[ \t]*`)

// detectNameField finds names as the whole value of a colon field whatever the label
// (核准：张三。, 复核者：李四 2019-03-05): a Han label of one or more runes that does not end in a
// reporting verb (fieldLabelOK), then a surname and one or two given runes that end at a
// non-Han rune other than a colon (白蛋白：25 is a label) or at the end of the text, and score
// at least nameFieldMin (rule "name-field").
func (d *doc) detectNameField() {
	d.eachMatch(reField, 0, func(s, e int, _ []string) {
		le := s
		for le > 0 && (d.rs[le-1] == ' ' || d.rs[le-1] == '\t') {
			le--
		}
		ls := le
		for ls > 0 && le-ls < 8 && isHan(d.rs[ls-1]) {
			ls--
		}
		if !fieldLabelOK(d.rs[ls:le]) {
			return
		}
		for _, l := range []int{4, 3, 2} { // longest first; compound surnames need 3–4
			end := e + l
			if end > len(d.rs) || isHan(d.at(end)) || d.at(end) == ':' || !allHan(d.rs[e:end]) {
				continue
			}
			if d.blocked(e, end) {
				return
			}
			if sc, ok := nameScore(d.rs[e:end]); ok && sc >= nameFieldMin {
				d.add(e, end, Name, "name-field")
			}
			return
		}
	})
}

func allHan(rs []rune) bool {
	for _, r := range rs {
		if !isHan(r) {
			return false
		}
	}
	return true
}

// repeatNames marks every other occurrence of a name of two or more runes found by a rule
// (rule "name-repeat"), so a name seen once with context is masked everywhere.
func (d *doc) repeatNames() {
	seen := map[string]bool{}
	for _, c := range d.cands {
		if c.cat == Name && c.e-c.s >= 2 {
			seen[string(d.rs[c.s:c.e])] = true
		}
	}
	for n := range seen {
		for off := 0; ; {
			i := strings.Index(d.str[off:], n)
			if i < 0 {
				break
			}
			s := d.runeAt[off+i]
			d.add(s, s+len([]rune(n)), Name, "name-repeat")
			off += i + len(n)
		}
	}
}

// addrLabel: labels that introduce an address.
var reAddrLabel = mustScanner(`(?:家庭住址|现住址|户籍地址|户籍地|通讯地址|联系地址|居住地|出生地|籍贯|住址|地址|家住|现住|住在|现居|居住于|住于|来自)[:\s]*`)

var (
	addrSuffix = `(?:特别行政区|自治区|自治州|自治县|地区|新区|开发区|街道|社区|小区|花园|公寓|大厦|大道|大街|胡同|省|市|盟|旗|区|县|镇|乡|村|路|街|巷|弄|屯|组|苑|园|庄)`
	reAddrComp = regexp.MustCompile(`^(?:\p{Han}{1,7}?` + addrSuffix + `|(?:\d+|[一二三四五六七八九十百零〇]+)(?:号楼|号院|号|栋|幢|单元|楼|层|室|组|弄|巷|排|户|队)|\d+(?:-\d+)+(?:号|室)?)`)
	rePlaceSfx = regexp.MustCompile(`^` + addrSuffix)
)

// placeAt returns the end of the longest built-in place name starting at i, or -1.
func (d *doc) placeAt(i int) int {
	for _, p := range placesBy[d.at(i)] {
		pr := []rune(p)
		if i+len(pr) <= len(d.rs) && string(d.rs[i:i+len(pr)]) == p {
			return i + len(pr)
		}
	}
	return -1
}

// addrChain extends an address from p over consecutive components and returns its end
// (p when none follows) and the number of components.
func (d *doc) addrChain(p int) (int, int) {
	n := 0
	for p < len(d.rs) {
		if e := d.placeAt(p); e > 0 {
			p, n = d.afterSuffix(e), n+1
			continue
		}
		rest := string(d.rs[p:min(p+16, len(d.rs))])
		loc := reAddrComp.FindStringIndex(rest)
		if loc == nil {
			break
		}
		p += len([]rune(rest[:loc[1]]))
		// A name ending in a suffix rune takes the suffix after it too: 王家屯村, 李庄路 (the
		// shortest match stopped at 屯 or 庄, and 村 or 路 alone is no component).
		p = d.afterSuffix(p)
		n++
	}
	return p, n
}

// afterSuffix returns the end of an address suffix (省, 村, 自治区 …) starting at p, or p.
func (d *doc) afterSuffix(p int) int {
	next := string(d.rs[p:min(p+6, len(d.rs))])
	if loc := rePlaceSfx.FindStringIndex(next); loc != nil {
		return p + len([]rune(next[:loc[1]]))
	}
	return p
}

func (d *doc) detectAddress() {
	d.eachMatch(reAddrLabel, 0, func(s, e int, m []string) {
		if strings.HasPrefix(m[0], "现住") && d.at(s+2) == '院' {
			return
		}
		if end, n := d.addrChain(e); n > 0 {
			d.add(e, end, Address, "address-label")
		}
	})
	for i := 0; i < len(d.rs); i++ {
		if !isHan(d.rs[i]) {
			continue
		}
		pe := d.placeAt(i)
		if pe < 0 {
			continue
		}
		// A place name counts with a suffix (北京市) or when more components follow.
		end, n := d.addrChain(i)
		sfx := d.afterSuffix(pe) > pe
		if sfx || n >= 2 {
			d.add(i, end, Address, "address-place")
			i = end - 1
		}
	}
}

var reHospSuffix = mustScanner(`医院|卫生院|卫生所|卫生室|诊所|医疗中心|医学中心|卫生服务中心|卫生服务站|保健院|保健所|疗养院|急救中心`)

// hospStop ends the backward scan for a hospital's name.
var hospStop = runeSet("于在至到往入转赴去经就来由从及的我该本外其他前后因行诊住出送返回、")

// hospGeneric are words that name a kind of hospital, not one hospital; a name made only of
// them (当地医院, 县人民医院, 社区卫生服务中心) is not PHI.
var hospGeneric = []string{"中西医结合", "精神病", "传染病", "结核病", "当地", "上级", "基层", "附近", "其他", "各级", "一级", "二级", "三级", "二甲", "三甲", "甲等", "专科", "综合", "私人", "个体", "民营", "公立", "正规", "肿瘤", "儿童", "妇幼", "妇产", "中医", "西医", "人民", "中心", "社区", "乡镇", "口腔", "眼科", "骨科", "康复", "护理", "部队", "军队", "一家", "附属", "大型", "省级", "市级", "县级", "乡", "镇", "村", "县", "市", "省", "区", "大", "小", "某", "家", "第", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// hospLead are pointing words cut from the front of a hospital name (当地XX医院 → XX医院).
var hospLead = []string{"当地", "上级", "基层", "附近", "其他", "某"}

// reDept: a department right after a hospital name.
var reDept = regexp.MustCompile(`^的?\p{Han}{0,9}?(?:科|病区|病房|门诊部|门诊|中心)`)

// deptStop: runes that do not occur in department names, except in the words of
// deptWords (诊 of 就诊 ends a department, 诊 of 急诊科 does not).
var deptStop = runeSet("行就诊住治疗入转后查于在至并予给示因")

// deptWords are department words that hold a deptStop rune.
var deptWords = []string{"急诊", "门诊", "诊疗"}

func (d *doc) detectHospital() {
	d.eachMatch(reHospSuffix, 0, func(s, e int, _ []string) {
		st := s
		for st > 0 && s-st < 14 {
			r := d.rs[st-1]
			if !(isHan(r) || isDigit(r)) || hospStop[r] {
				break
			}
			st--
		}
		prefix := string(d.rs[st:s])
		for _, g := range hospLead {
			prefix = strings.TrimPrefix(prefix, g)
		}
		st = s - len([]rune(prefix))
		rest := prefix
		for _, g := range hospGeneric {
			rest = strings.ReplaceAll(rest, g, "")
		}
		if rest == "" {
			return
		}
		rule := "hospital"
		if loc := reDept.FindStringIndex(string(d.rs[e:min(e+12, len(d.rs))])); loc != nil {
			dept := []rune(string(d.rs[e:min(e+12, len(d.rs))])[:loc[1]])
			bare := string(dept)
			for _, w := range deptWords {
				bare = strings.ReplaceAll(bare, w, "")
			}
			ok := true
			for _, r := range bare {
				if deptStop[r] {
					ok = false
				}
			}
			if ok {
				e += len(dept)
				rule = "hospital+department"
			}
		}
		d.add(st, e, Hospital, rule)
	})
}
