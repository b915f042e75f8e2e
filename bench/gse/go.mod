module github.com/bingli/bingli/bench/gse

go 1.26.8

replace github.com/bingli/bingli => ../..

require (
	github.com/bingli/bingli v0.0.0-00010101000000-000000000000
	github.com/go-ego/gse v0.80.3
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/vcaesar/cedar v0.20.2 // indirect
)
