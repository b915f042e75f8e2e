package deid

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchRecord builds a clinical record of n runes the way web/bench.js does: a PHI header,
// then seeded clinical sentences (with a date, a doctor's name and lab values among them).
func benchRecord(n int, seed uint64) string {
	sentences := []string{
		"因反复胸闷、气短3年，加重伴咳嗽1周入院。", "既往有高血压病史10年，口服硝苯地平控释片，血压控制可。",
		"查体：双肺呼吸音粗，可闻及湿性啰音，心率96次/分，律齐。", "胸部CT示右肺下叶炎症，血常规示白细胞计数升高。",
		"诊断：慢性阻塞性肺疾病急性加重，高血压病3级。", "予抗感染、平喘、化痰治疗后症状好转。", "患者自诉头痛、头晕，无恶心、呕吐。",
		"行腹部B超检查，未见明显异常。", "予阿司匹林肠溶片口服，监测血糖，空腹血糖7.8mmol/L。", "双下肢无水肿，神经系统查体未见异常。",
		"2023年3月18日复查肝功能：谷丙转氨酶45U/L，总胆红素18.2μmol/L。", "术后予头孢呋辛预防感染，切口愈合良好。",
		"主治医师王建华查房后指示：继续当前治疗方案。", "心电图示窦性心律，ST段未见明显异常。",
	}
	r := rand.New(rand.NewPCG(seed, 1))
	rs := []rune("患者张秀英，男，63岁，住院号ZY20231108，联系电话13912345678。\n")
	for len(rs) < n {
		rs = append(rs, []rune(sentences[r.IntN(len(sentences))])...)
		if r.IntN(100) < 15 {
			rs = append(rs, '\n')
		}
	}
	return string(rs[:n])
}

// BenchmarkDetect: PHI detection alone on records of the browser benchmark's sizes
// (go test ./core/deid -run - -bench Detect).
func BenchmarkDetect(b *testing.B) {
	for _, n := range []int{200, 1000, 5000} {
		s := benchRecord(n, 1)
		b.Run(fmt.Sprintf("chars=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				if _, err := Detect(s, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
