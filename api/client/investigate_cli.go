package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
)

// Environment variables the investigate command reads.
const (
	EnvAPIURL   = "NETSTRATA_API_URL"
	EnvAPIToken = "NETSTRATA_API_TOKEN"
)

// RunInvestigateCLI is `netstrata investigate`: it asks a running API
// and prints the report (or its JSON with --json). Usage goes to stdout
// on -h, where the returned error is flag.ErrHelp.
func RunInvestigateCLI(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("investigate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	apiURL := fs.String("api", envOr(EnvAPIURL, "http://127.0.0.1:8080"), "API base URL (env "+EnvAPIURL+")")
	token := fs.String("token", "", "bearer token (prefer env "+EnvAPIToken+": flags show in ps)")
	node := fs.String("node", "", "node to investigate")
	device := fs.String("device", "", "device (name or IP) of the interface to investigate, with --if-index")
	ifIndex := fs.Int("if-index", -1, "interface index on --device")
	ip := fs.String("ip", "", "IP address to investigate")
	since := fs.String("since", "1h", "look back this long (e.g. 30m, 6h, 2d)")
	from := fs.String("from", "", "start of the range (RFC 3339 or relative like -2h); overrides --since")
	to := fs.String("to", "", "end of the range (default now)")
	asJSON := fs.Bool("json", false, "print the JSON answer instead of the report")
	caFile := fs.String("ca-file", "", "PEM CA bundle to verify the API's TLS certificate")
	insecure := fs.Bool("insecure", false, "do not verify the API's TLS certificate")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
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
		if _, err := apiv1.ParseDuration(strings.TrimPrefix(*since, "-")); err != nil {
			return fmt.Errorf("investigate: --since: %w", err)
		}
		q.Set("from", "-"+strings.TrimPrefix(*since, "-"))
	}
	if *to != "" {
		q.Set("to", *to)
	}
	if *token == "" {
		*token = os.Getenv(EnvAPIToken)
	}
	hc, err := cliHTTPClient(*caFile, *insecure)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c := &Client{BaseURL: *apiURL, Token: *token, HTTP: hc}
	if *asJSON {
		var raw json.RawMessage
		if err := c.Get(ctx, apiv1.Prefix+"/investigate", q, &raw); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "%s\n", raw)
		return err
	}
	inv, err := c.Investigate(ctx, q)
	if err != nil {
		return err
	}
	return RenderReport(stdout, inv)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func cliHTTPClient(caFile string, insecure bool) (*http.Client, error) {
	if caFile == "" && !insecure {
		return &http.Client{}, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("investigate: --ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("investigate: --ca-file %s: no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}
