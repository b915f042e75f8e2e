package corpus

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// protocols maps each fixed evaluation protocol (DATA.md) to the dataset it splits.
var protocols = map[string]string{
	"ccks2017-split5": "ccks2017",
	"yidu-train-dev":  "yidu",
}

// Protocols lists the fixed evaluation protocols, sorted.
func Protocols() []string {
	names := make([]string, 0, len(protocols))
	for p := range protocols {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

// ProtocolDataset names the dataset (a Read name) a protocol splits.
func ProtocolDataset(protocol string) (string, error) {
	ds, ok := protocols[protocol]
	if !ok {
		return "", unknownProtocol(protocol)
	}
	return ds, nil
}

func unknownProtocol(p string) error {
	return fmt.Errorf("corpus: unknown protocol %q (known: %s)", p, strings.Join(Protocols(), ", "))
}

// Split divides docs by a fixed protocol of DATA.md, keeping their order:
//
//   - ccks2017-split5: N from the ID "<section>-N"; test = N % 5 == 0, dev = N % 10 == 1,
//     train = the rest (each section file is one document).
//   - yidu-train-dev: train = yidu-part1-* and yidu-part2-1..500; dev = yidu-part2-501 and
//     later; test is empty.
//
// An ID the protocol cannot place is an error.
func Split(protocol string, docs []Document) (train, dev, test []Document, err error) {
	var place func(id string) (int, error) // 0 train, 1 dev, 2 test
	switch protocol {
	case "ccks2017-split5":
		place = func(id string) (int, error) {
			n, err := idNumber(id, "")
			switch {
			case err != nil:
				return 0, err
			case n%5 == 0:
				return 2, nil
			case n%10 == 1:
				return 1, nil
			}
			return 0, nil
		}
	case "yidu-train-dev":
		place = func(id string) (int, error) {
			if _, err := idNumber(id, "yidu-part1-"); err == nil {
				return 0, nil
			}
			n, err := idNumber(id, "yidu-part2-")
			switch {
			case err != nil:
				return 0, fmt.Errorf("want yidu-part1-<i> or yidu-part2-<i>: %w", err)
			case n <= 500:
				return 0, nil
			}
			return 1, nil
		}
	default:
		return nil, nil, nil, unknownProtocol(protocol)
	}
	for _, d := range docs {
		k, err := place(d.ID)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("corpus: split %s: document %q: %w", protocol, d.ID, err)
		}
		switch k {
		case 0:
			train = append(train, d)
		case 1:
			dev = append(dev, d)
		default:
			test = append(test, d)
		}
	}
	return train, dev, test, nil
}

// idNumber parses the positive integer after the last "-" of id, which must start with
// prefix.
func idNumber(id, prefix string) (int, error) {
	if !strings.HasPrefix(id, prefix) {
		return 0, fmt.Errorf("no prefix %q", prefix)
	}
	i := strings.LastIndexByte(id, '-')
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("no positive number after the last '-'")
	}
	return n, nil
}
