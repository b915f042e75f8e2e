package deid

import "strings"

// The name model scores how much a candidate (surname, then one or two given-name runes)
// looks like a personal name rather than a word of clinical text. It adds:
//
//	surname   by its rank in surnameList (ordered by frequency): top 100 +2.0, next 100
//	          +1.5, the rest +1.0; a compound surname +1.5
//	each      +1.0 in givenCommon (frequent given-name characters), −3.0 in givenRare
//	given     (characters of clinical, anatomical and everyday words that are rare in given
//	rune      names), −0.5 otherwise; a nameStop rune rules the candidate out
//
// Rules ask for different scores (see the package doc): a bare colon field (X：张三) needs
// nameFieldMin, a weak context (患者张三) nameContextMin, a strong label (姓名：张三) only
// that no given rune is in givenRare. The lists are written from public name statistics and
// clinical vocabulary; the benchmark generator's given-name pool is not used, and
// docs/BENCHMARKS.md gives NAME recall with every pool character removed from givenCommon
// (unchanged).
const (
	nameFieldMin   = 0.5
	nameContextMin = 0.5
)

// givenCommon: frequent characters of Chinese given names.
const givenCommon = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建林波宁燕斌飞婷琳雪琴云峰浩宇欣怡晨阳佳俊子涵轩梓睿博文思雨萱嘉一鸣乐宏国志庆海振淑珍晓东德永凤芝瑞雅远豪熙昊然铭泽诗琪语彤馨悦晴瑶颖莉倩慧丹亮成龙旭凯鑫翔洁蕾露琦璐薇梅荣福祥贵春秋冬金银宝立新光亚兴利清正元丰胜友卫彬丹琼莹娇蓉媛婉雯静怡欢盈妍珊岚霖航天宸奕辰逸皓钰烨煜炜晖晗曦晟昕韬锐锋铁钢毅坤杨柏松竹兵武胜信仁义礼智勤俭忠孝诚"

// givenRare: characters frequent in clinical text (symptoms, anatomy, procedures, drugs,
// function words, numbers and time words) that are rare in given names.
const givenRare = "我你他她它们这那哪谁啥么呢吧吗啊哦嗯起受凉半感恶叫发动劳复肤疸道部侧左右上下内外中间前后左胸背腰腿臂手足脚头颈肩膝肘腕踝指趾眼耳鼻口舌牙齿喉咽胃肠肛门阴茎睾宫颈卵乳房膀胱脾胰胆囊管腔壁膜腺淋巴结节块团片灶影状型度级期次周量值率比例项组群类性质体温脉搏呼吸压降升高低增减加减少多少大小粗细长短厚薄宽窄软硬冷暖干湿红肿胀酸麻木僵硬抖颤晕吐泻渴饿饱渴困倦乏力虚弱咯喘憋闷悸咳嗽痰涕汗尿便屎屁经带孕产胎婴流引切除缝合插穿刺吸引注射输服用药剂量静滴口含贴敷洗漱查看测验检验扫描镜超声彩造影拍摄记录写签署填报告知通知说讲问答诉述称讲诊断治疗护理观察监测评估复查随访再次重复继续停止开始结束完成进行给予予以采取选择考虑怀疑排除明确提示显示示见未无否非不没别勿莫均皆都也亦又还仍尚已曾将要会能可应该需须必得让使被把从自向往到达至于对跟同与及或且而但却则因所以如若虽然即便就才只仅很较更最太极稍略约余几每各某该本此其之者的地得着了过个只条根支粒颗袋瓶盒毫克升厘米分秒时天日月年岁蛋胞扑颤素酶糖脂钾钠钙氯铁锌镁磷酮氨肌苷尿酸碱盐"

var (
	givenCommonSet = runeSet(givenCommon)
	givenRareSet   = runeSet(givenRare)
	surnameRank    = map[rune]int{}
)

func init() {
	i := 0
	for _, r := range surnameList {
		if _, ok := surnameRank[r]; !ok {
			surnameRank[r] = i
		}
		i++
	}
	// A character cannot be both: frequent given-name characters win.
	for r := range givenCommonSet {
		delete(givenRareSet, r)
	}
}

// nameScore scores rs (a compound or single surname, then the given runes) and reports
// whether it is a candidate at all (a known surname, one or two given runes, none of them
// in nameStop).
func nameScore(rs []rune) (float64, bool) {
	if len(rs) < 2 {
		return 0, false
	}
	var score float64
	g := 1
	if len(rs) >= 3 && isCompoundSurname(string(rs[:2])) {
		score, g = 1.5, 2
	} else if rank, ok := surnameRank[rs[0]]; ok {
		switch {
		case rank < 100:
			score = 2
		case rank < 200:
			score = 1.5
		default:
			score = 1
		}
	} else {
		return 0, false
	}
	if n := len(rs) - g; n < 1 || n > 2 {
		return 0, false
	}
	for _, r := range rs[g:] {
		switch {
		case nameStop[r] || !isHan(r):
			return 0, false
		case givenCommonSet[r]:
			score++
		case givenRareSet[r]:
			score -= 3
		default:
			score -= 0.5
		}
	}
	return score, true
}

// hasRareGiven reports whether a given rune of the name rs is in givenRare.
func hasRareGiven(rs []rune) bool {
	g := 1
	if len(rs) >= 3 && isCompoundSurname(string(rs[:2])) {
		g = 2
	}
	for _, r := range rs[min(g, len(rs)):] {
		if givenRareSet[r] {
			return true
		}
	}
	return false
}

func isCompoundSurname(s string) bool {
	for _, c := range compoundSurnames {
		if c == s {
			return true
		}
	}
	return false
}

// fieldLabelOK reports whether the Han label before a colon can introduce a person: labels
// that end in a reporting verb (结果示：, 诊断为：, 回报：) introduce findings.
func fieldLabelOK(label []rune) bool {
	if len(label) == 0 {
		return false
	}
	return !strings.ContainsRune("示为见报如下是", label[len(label)-1])
}
