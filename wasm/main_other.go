//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bingli wasm: build with GOOS=js GOARCH=wasm (./build.sh web)")
	os.Exit(2)
}
