package main

import (
	"io"

	"github.com/netstrata/netstrata/cmd/netstrata/demo"
)

// runDemo is `netstrata demo` (make demo): the whole pipeline on this
// machine around a lab of network namespaces; `demo sender` and `demo
// sink` are its traffic generator's processes.
func runDemo(args []string, stdout, stderr io.Writer) int {
	return demo.Main(args, stdout, stderr)
}
