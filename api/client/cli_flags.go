package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
)

// Environment variables the CLI commands read.
const (
	EnvAPIURL   = "NETSTRATA_API_URL"
	EnvAPIToken = "NETSTRATA_API_TOKEN"
)

// connFlags are the flags of every command that calls the API: where it
// is, the token, TLS and a time limit.
type connFlags struct {
	apiURL, token, caFile *string
	insecure              *bool
	timeout               *time.Duration
}

func addConnFlags(fs *flag.FlagSet) *connFlags {
	return &connFlags{
		apiURL:   fs.String("api", envOr(EnvAPIURL, "http://127.0.0.1:8080"), "API base URL (env "+EnvAPIURL+")"),
		token:    fs.String("token", "", "bearer token (prefer env "+EnvAPIToken+": flags show in ps)"),
		caFile:   fs.String("ca-file", "", "PEM CA bundle to verify the API's TLS certificate"),
		insecure: fs.Bool("insecure", false, "do not verify the API's TLS certificate"),
		timeout:  fs.Duration("timeout", 2*time.Minute, "give up after this long"),
	}
}

// client is the Client the flags describe; cmd prefixes its errors.
func (f *connFlags) client(cmd string) (*Client, error) {
	token := *f.token
	if token == "" {
		token = os.Getenv(EnvAPIToken)
	}
	hc, err := cliHTTPClient(cmd, *f.caFile, *f.insecure)
	if err != nil {
		return nil, err
	}
	return &Client{BaseURL: *f.apiURL, Token: token, HTTP: hc}, nil
}

// fromSince is the from parameter of a --since flag: "1h" → "-1h".
func fromSince(cmd, since string) (string, error) {
	d := strings.TrimPrefix(since, "-")
	if _, err := apiv1.ParseDuration(d); err != nil {
		return "", fmt.Errorf("%s: --since: %w", cmd, err)
	}
	return "-" + d, nil
}

// printRaw prints the API's JSON answer of path as it came.
func (c *Client) printRaw(ctx context.Context, path string, q url.Values, w io.Writer) error {
	var raw json.RawMessage
	if err := c.Get(ctx, path, q, &raw); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s\n", raw)
	return err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func cliHTTPClient(cmd, caFile string, insecure bool) (*http.Client, error) {
	if caFile == "" && !insecure {
		return &http.Client{}, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("%s: --ca-file: %w", cmd, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: --ca-file %s: no PEM certificate", cmd, caFile)
		}
		cfg.RootCAs = pool
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}
