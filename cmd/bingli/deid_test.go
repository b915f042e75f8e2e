package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bingli/bingli/internal/datadir"
)

type deidLineOut struct {
	ID  any `json:"id"`
	PHI []struct {
		Start, End int
		Category   string
		Text       string
	} `json:"phi"`
	Masked string `json:"masked"`
}

func TestDeidCLI(t *testing.T) {
	in := `{"id":"a","text":"患者张三，男，45岁，住院号：ZY2019001，于2019年3月5日入院，诊断高血压。"}
not json
{"id":"b","text":"电话13812345678"}
{"id":"c"}
`
	code, out, errs := runCLI(t, in, "deid", "--mode", "tag")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (bad lines)\nstderr: %s", code, errs)
	}
	if !strings.Contains(errs, "stdin:2:") || !strings.Contains(errs, "stdin:4:") {
		t.Errorf("stderr does not name lines 2 and 4: %s", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 output lines, got %q", out)
	}
	var a deidLineOut
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if want := "患者[姓名]，男，[年龄]，住院号：[病案号]，于[日期]入院，诊断高血压。"; a.ID != "a" || a.Masked != want {
		t.Errorf("masked %q, want %q", a.Masked, want)
	}
	if len(a.PHI) != 4 || a.PHI[0].Category != "NAME" || a.PHI[0].Start != 2 || a.PHI[0].End != 4 {
		t.Errorf("phi %+v", a.PHI)
	}
	code, out, errs = runCLI(t, `{"id":1,"text":"张三医生，张三医生"}`+"\n", "deid", "--mode", "surrogate", "--seed", "3", "--protect", "none")
	var s deidLineOut
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil || len(s.PHI) != 2 || strings.Contains(s.Masked, "张三") || s.Masked[:6] != s.Masked[15:21] {
		t.Errorf("surrogate: exit %d, out %s, stderr %s", code, out, errs)
	}
	for _, args := range [][]string{{"deid", "--mode", "x"}, {"deid", "--protect", "x"}} {
		if code, _, _ := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestDeidBench(t *testing.T) {
	dir := datadir.OrSkip(t)
	n := "100"
	if testing.Short() {
		n = "40"
	}
	code, out, errs := runCLI(t, "", "deid", "bench", "--data", dir, "--n", n)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"PHONE", "NAME", "false masking"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Log(out)
}
