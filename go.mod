module github.com/bingli/bingli

go 1.26.8

require (
	github.com/klauspost/compress v1.20.3 // indirect
	gonum.org/v1/gonum v0.17.0 // indirect
)
