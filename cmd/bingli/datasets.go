package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/internal/datadir"
)

// datasetPaths says where each dataset lies inside the shared data folder (DATA.md).
var datasetPaths = map[string]string{
	"ccks2017":           "ner/ccks2017",
	"ccks2017-unlabeled": "ner/ccks2017",
	"yidu":               "ner/yidu_s4k",
	"ccks2018":           "ner/ccks2018/processed_bio_dekuaa/train.txt",
	"cmeee":              "ner/cmeee/train_data.txt",
	"cmedqaner":          "ner/cmedqaner",
}

// schemaOf maps a dataset to the label schema its entities use (lexicon.SchemaNames).
var schemaOf = map[string]string{
	"ccks2017":  "ccks2017",
	"yidu":      "yidu",
	"ccks2018":  "ccks2018",
	"cmeee":     "cmeee",
	"cmedqaner": "cmedqaner",
}

// resolveDataDir returns the --data flag's folder, or finds shared/data.
func resolveDataDir(flagValue string) (string, error) {
	if flagValue != "" {
		if st, err := os.Stat(flagValue); err != nil || !st.IsDir() {
			return "", fmt.Errorf("--data %q is not a folder", flagValue)
		}
		return flagValue, nil
	}
	d, err := datadir.Find()
	if err != nil {
		return "", fmt.Errorf("%w; or pass --data DIR", err)
	}
	return d, nil
}

// readProtocolDataset reads the dataset a protocol is defined on from the data folder.
func readProtocolDataset(dataDir, protocol string) (*corpus.Dataset, string, error) {
	name, err := corpus.ProtocolDataset(protocol)
	if err != nil {
		return nil, "", usagef("%v (protocols: %s)", err, strings.Join(corpus.Protocols(), ", "))
	}
	rel, ok := datasetPaths[name]
	if !ok {
		return nil, "", fmt.Errorf("no known location for dataset %s", name)
	}
	ds, err := corpus.Read(name, filepath.Join(dataDir, rel))
	if err != nil {
		return nil, "", err
	}
	return ds, name, nil
}
