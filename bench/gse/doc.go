// Package gsebench compares the lexicon package's maximum matching with the
// gse Chinese word segmenter (github.com/go-ego/gse, its own embedded
// dictionary) on the same clinical text, in one `go test -bench` run. It is
// a separate module so that gse never becomes a dependency of bingli.
//
//	cd bench/gse && GOMAXPROCS=1 go test -run x -bench . -cpu 1 -count 5
//
// The data directory is $BINGLI_DATA or shared/data found above the working
// directory; without it the benchmarks skip.
package gsebench
