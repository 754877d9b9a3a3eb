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
		run:  apiCLI("investigate", client.RunInvestigateCLI),
	}
}

// apiCLI runs a command that asks a running API (name: its name in
// errors): Ctrl-C cancels it, -h exits 0.
func apiCLI(name string, fn func(ctx context.Context, args []string, stdout io.Writer) error) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := fn(ctx, args, stdout); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "netstrata %s: %v\n", name, err)
			return 1
		}
		return 0
	}
}
