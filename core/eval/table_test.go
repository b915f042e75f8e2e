package eval

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bingli/bingli/core/corpus"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestWriteTable(t *testing.T) {
	gold, pred := handExample()
	hand, err := Score(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	hand.Protocol, hand.Split = "hand-example", "test"
	mixed, err := Score(
		[]corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, "Medicine"), ent(3, 5, "药物")}}, {ID: "b"}},
		[]corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, "Medicine"), ent(3, 6, "药物"), ent(7, 8, "ＣＴ检查")}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := Score(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    *Result
	}{
		{"hand", hand},
		{"mixed_width", mixed},
		{"empty", empty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.r.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			checkAligned(t, b.String())
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("table differs from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, b.String(), want)
			}
		})
	}
}

// checkAligned asserts that within each block of table lines (separated by blank lines),
// every line has the same display width, so right-aligned columns line up.
func checkAligned(t *testing.T, table string) {
	t.Helper()
	blocks := strings.Split(strings.TrimSuffix(table, "\n"), "\n\n")
	for _, block := range blocks[1:] {
		lines := strings.Split(block, "\n")
		if strings.HasSuffix(lines[0], ":") {
			lines = lines[1:]
		}
		w := displayWidth(lines[0])
		for _, l := range lines {
			if displayWidth(l) != w {
				t.Errorf("line %q has width %d, want %d", l, displayWidth(l), w)
			}
		}
	}
}

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"micro", 5},
		{"疾病和诊断", 10},
		{"CT检查", 6},
		{"ＣＴ", 4},
		{"한국", 4},
		{"é", 1},
	}
	for _, tc := range tests {
		t.Run(tc.s, func(t *testing.T) {
			if got := displayWidth(tc.s); got != tc.want {
				t.Errorf("displayWidth(%q) = %d, want %d", tc.s, got, tc.want)
			}
		})
	}
}
