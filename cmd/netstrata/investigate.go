package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/netstrata/netstrata/api/client"
)

func init() {
	commands["investigate"] = command{
		help: "Asks a running API why traffic spiked and prints the report (netstrata investigate --help).",
		run:  runInvestigate,
	}
}

// runInvestigate asks a running API why traffic spiked and prints the
// report for a terminal.
func runInvestigate(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := client.RunInvestigateCLI(ctx, args, stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "netstrata investigate: %v\n", err)
		return 1
	}
	return 0
}
