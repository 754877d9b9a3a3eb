package client

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/netstrata/netstrata/api/apiv1"
)

// RunInvestigateCLI is `netstrata investigate`: it asks a running API
// and prints the report (or its JSON with --json). Usage goes to stdout
// on -h, where the returned error is flag.ErrHelp.
func RunInvestigateCLI(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("investigate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	conn := addConnFlags(fs)
	node := fs.String("node", "", "node to investigate")
	device := fs.String("device", "", "device (name or IP) of the interface to investigate, with --if-index")
	ifIndex := fs.Int("if-index", -1, "interface index on --device")
	ip := fs.String("ip", "", "IP address to investigate")
	since := fs.String("since", "1h", "look back this long (e.g. 30m, 6h, 2d)")
	from := fs.String("from", "", "start of the range (RFC 3339 or relative like -2h); overrides --since")
	to := fs.String("to", "", "end of the range (default now)")
	asJSON := fs.Bool("json", false, "print the JSON answer instead of the report")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: netstrata investigate (--node N | --device D --if-index I | --ip A) [--since 1h | --from T --to T] [--json]")
		fmt.Fprintln(stdout, "Asks a running netstrata API why traffic on a node, interface or IP spiked, and prints the report.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("investigate: unexpected argument %q", fs.Arg(0))
	}
	q := url.Values{}
	subjects := 0
	if *node != "" {
		q.Set("node", *node)
		subjects++
	}
	if *device != "" {
		if *ifIndex < 0 {
			return errors.New("investigate: --device needs --if-index")
		}
		q.Set("device", *device)
		q.Set("if_index", strconv.Itoa(*ifIndex))
		subjects++
	}
	if *ip != "" {
		q.Set("ip", *ip)
		subjects++
	}
	if subjects != 1 {
		return errors.New("investigate: give exactly one of --node, --device with --if-index, or --ip")
	}
	switch {
	case *from != "":
		q.Set("from", *from)
	default:
		f, err := fromSince("investigate", *since)
		if err != nil {
			return err
		}
		q.Set("from", f)
	}
	if *to != "" {
		q.Set("to", *to)
	}
	c, err := conn.client("investigate")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()
	if *asJSON {
		return c.printRaw(ctx, apiv1.Prefix+"/investigate", q, stdout)
	}
	inv, err := c.Investigate(ctx, q)
	if err != nil {
		return err
	}
	return RenderReport(stdout, inv)
}
