module github.com/bingli/bingli/worker

go 1.26.8

require (
	github.com/bingli/bingli v0.0.0
	github.com/syumai/workers v0.32.0
)

require github.com/klauspost/compress v1.20.3 // indirect

replace github.com/bingli/bingli => ../
