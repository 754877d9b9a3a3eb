package main

import (
	"fmt"
	"io"
)

func runInvestigate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "netstrata investigate: not available yet")
	return 1
}
