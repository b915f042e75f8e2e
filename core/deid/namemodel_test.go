package deid

import "testing"

func TestNameField(t *testing.T) {
	tests := []struct {
		text string
		want string // "" = no NAME
	}{
		{"核准：张伟。", "张伟"},
		{"复核者：李秀英 2019-03-05", "李秀英"},
		{"签发：欧阳明", "欧阳明"},
		{"校对 ： 王芳，", "王芳"},
		{"报告医生：赵四\n", "赵四"},
		{"检查者:孙丽；", "孙丽"},
		{"结果示：白细胞升高", ""},
		{"血常规示：白细胞。", ""},
		{"肝功：白蛋白：25.5g/L", ""},
		{"心电图：房扑，心率69次/分", ""},
		{"诊断为：左侧。", ""},
		{"性别：男，", ""},
		{"职业：农民。", ""},
		{"部位：左肺。", ""},
		{"患者于我院就诊", ""},
		{"患者于晨起时出现腹痛", ""},
		{"患者皮肤无黄染", ""},
		{"家属呼叫120", ""},
		{"患者王秀英，女，60岁", "王秀英"},
		{"麻醉：全麻。", ""},
		{"过敏史：青霉素。", ""},
		{"检查：阴性。", ""},
		{"饮食：可，睡眠：差。", ""},
	}
	for _, tc := range tests {
		spans, err := Detect(tc.text, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, s := range spans {
			if s.Category == Name {
				got = s.Text
			}
		}
		if got != tc.want {
			t.Errorf("%q: NAME %q, want %q (spans %+v)", tc.text, got, tc.want, spans)
		}
	}
}

func TestNameScore(t *testing.T) {
	tests := []struct {
		name           string
		ok             bool
		atLeast, below float64
	}{
		{"王芳", true, 2.5, 3.5},  // top surname, frequent given rune
		{"王斑", true, 1.0, 2.0},  // unknown given rune
		{"于我", true, -2, 0},     // rare given rune
		{"欧阳明", true, 2.0, 3.0}, // compound surname
		{"张三四五", false, 0, 0},   // too long
		{"张", false, 0, 0},      // no given name
		{"的确", false, 0, 0},     // not a surname
		{"王痛", false, 0, 0},     // a nameStop rune
		{"王a", false, 0, 0},
	}
	for _, tc := range tests {
		sc, ok := nameScore([]rune(tc.name))
		if ok != tc.ok || ok && (sc < tc.atLeast || sc >= tc.below) {
			t.Errorf("nameScore(%q) = %v, %v; want ok %v in [%v, %v)", tc.name, sc, ok, tc.ok, tc.atLeast, tc.below)
		}
	}
}

func FuzzNameField(f *testing.F) {
	for _, s := range []string{"核准：张伟。", "校对 ： 欧阳明", "肝功：白蛋白：25", "：：王", "患者于我院", "a:张"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sc, ok := nameScore([]rune(s)); ok && (sc < -8 || sc > 4) {
			t.Fatalf("nameScore(%q) = %v out of range", s, sc)
		}
		spans, err := Detect(s, Options{Categories: []Category{Name}})
		if err != nil {
			return
		}
		rs := []rune(s)
		for _, sp := range spans {
			if sp.Start < 0 || sp.End > len(rs) || sp.Start >= sp.End || string(rs[sp.Start:sp.End]) != sp.Text {
				t.Fatalf("bad span %+v in %q", sp, s)
			}
		}
	})
}
