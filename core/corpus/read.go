package corpus

import (
	"fmt"
	"strings"
)

// readers maps each dataset name to its reader, in the order DatasetNames lists them.
var readers = []struct {
	name string
	read func(path string) (*Dataset, error)
}{
	{"ccks2017", ReadCCKS2017},
	{"ccks2017-unlabeled", ReadCCKS2017Unlabeled},
	{"yidu", ReadYidu},
	{"ccks2018", ReadCCKS2018},
	{"cmeee", ReadCMeEE},
	{"cmedqaner", func(path string) (*Dataset, error) { return ReadCMedQANER(path, cmedqanerDefaultSplit(path)) }},
	{"bio", func(path string) (*Dataset, error) { return ReadBIO(path, "") }},
	{"jsonl", ReadJSONL},
}

// cmedqanerDefaultSplit is "train" for a directory (any file names its own split).
func cmedqanerDefaultSplit(path string) string {
	if strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".txt") {
		return ""
	}
	return "train"
}

// DatasetNames lists the names Read accepts.
func DatasetNames() []string {
	names := make([]string, len(readers))
	for i, r := range readers {
		names[i] = r.name
	}
	return names
}

// Read reads a dataset by name from path:
//
//   - ccks2017: root or Train dir (ReadCCKS2017); ccks2017-unlabeled: root or Test dir
//   - yidu: directory or one part file (ReadYidu)
//   - ccks2018: train.txt or its directory (ReadCCKS2018)
//   - cmeee: train_data.txt or its directory (ReadCMeEE)
//   - cmedqaner: the directory (train split) or one .json/.txt file (ReadCMedQANER)
//   - bio: any char BIO file (ReadBIO); jsonl: bingli JSON lines (ReadJSONL)
func Read(dataset, path string) (*Dataset, error) {
	for _, r := range readers {
		if r.name == dataset {
			return r.read(path)
		}
	}
	return nil, fmt.Errorf("corpus: unknown dataset %q (known: %s)", dataset, strings.Join(DatasetNames(), ", "))
}
