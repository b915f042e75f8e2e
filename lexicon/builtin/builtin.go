// Package builtin embeds the medical dictionary that ships with bingli, so the CLI, the
// server and the browser can tag without any data folder.
//
// medical.dict is built by (see README.md, "Shipped artefacts"):
//
//	bin/bingli lexicon build --all ccks2017 --all yidu --out lexicon/builtin/medical.dict
//
// i.e. from the staged term lists (combined_typed_lexicon.tsv.gz, ChineseBLUE excluded) plus
// every labeled CCKS2017 and Yidu-S4K training mention. Because it holds all labeled
// mentions it must never be used to score a protocol: `bingli eval --protocol` builds its
// own dictionary from the protocol's train split. Trained on CCKS/Yidu data: research use only.
package builtin

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/bingli/bingli/lexicon"
)

//go:embed medical.dict
var data []byte

var (
	once sync.Once
	dict *lexicon.Dictionary
	err  error
)

// Dictionary decodes the embedded dictionary once and returns it (shared, read-only).
func Dictionary() (*lexicon.Dictionary, error) {
	once.Do(func() {
		dict, err = lexicon.Read(bytes.NewReader(data))
		if err != nil {
			err = fmt.Errorf("built-in dictionary: %w", err)
		}
	})
	return dict, err
}

// Size is the compressed size of the embedded dictionary in bytes.
func Size() int { return len(data) }
