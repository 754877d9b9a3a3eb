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
	f := addInvestigateFlags(fs)
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
	q, err := f.query()
	if err != nil {
		return err
	}
	c, err := conn.client("investigate")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()
	if *f.asJSON {
		return c.printRaw(ctx, apiv1.Prefix+"/investigate", q, stdout)
	}
	inv, err := c.Investigate(ctx, q)
	if err != nil {
		return err
	}
	return RenderReport(stdout, inv)
}

// investigateFlags are the subject and range options of `netstrata
// investigate`.
type investigateFlags struct {
	node, device, ip, since, from, to *string
	ifIndex                           *int
	asJSON                            *bool
}

func addInvestigateFlags(fs *flag.FlagSet) investigateFlags {
	return investigateFlags{
		node:    fs.String("node", "", "node to investigate"),
		device:  fs.String("device", "", "device (name or IP) of the interface to investigate, with --if-index"),
		ifIndex: fs.Int("if-index", -1, "interface index on --device"),
		ip:      fs.String("ip", "", "IP address to investigate"),
		since:   fs.String("since", "1h", "look back this long (e.g. 30m, 6h, 2d)"),
		from:    fs.String("from", "", "start of the range (RFC 3339 or relative like -2h); overrides --since"),
		to:      fs.String("to", "", "end of the range (default now)"),
		asJSON:  fs.Bool("json", false, "print the JSON answer instead of the report"),
	}
}

// query is the /investigate query of the options: exactly one subject
// and the range.
func (f investigateFlags) query() (url.Values, error) {
	q := url.Values{}
	subjects := 0
	if *f.node != "" {
		q.Set("node", *f.node)
		subjects++
	}
	if *f.device != "" {
		if *f.ifIndex < 0 {
			return nil, errors.New("investigate: --device needs --if-index")
		}
		q.Set("device", *f.device)
		q.Set("if_index", strconv.Itoa(*f.ifIndex))
		subjects++
	}
	if *f.ip != "" {
		q.Set("ip", *f.ip)
		subjects++
	}
	if subjects != 1 {
		return nil, errors.New("investigate: give exactly one of --node, --device with --if-index, or --ip")
	}
	switch {
	case *f.from != "":
		q.Set("from", *f.from)
	default:
		from, err := fromSince("investigate", *f.since)
		if err != nil {
			return nil, err
		}
		q.Set("from", from)
	}
	if *f.to != "" {
		q.Set("to", *f.to)
	}
	return q, nil
}
