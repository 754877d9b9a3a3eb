// Package client calls a running netstrata API and prints its
// investigation for a terminal: what `netstrata investigate`, the demo,
// the end-to-end test and the alerting share. It imports only the API's
// JSON shapes (package apiv1), never the server.
package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/netstrata/netstrata/api/apiv1"
)

// Client calls a running netstrata API.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string // bearer token; empty when the API has auth disabled
	HTTP    *http.Client
}

// Investigate calls GET /api/v1/investigate with q.
func (c *Client) Investigate(ctx context.Context, q url.Values) (*apiv1.Investigation, error) {
	var inv apiv1.Investigation
	if err := c.Get(ctx, apiv1.Prefix+"/investigate", q, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// Get fetches path?q (path from the server's root, e.g. apiv1.Prefix +
// "/flows/topn") and decodes the JSON answer into out; an API error comes
// back with its message.
func (c *Client) Get(ctx context.Context, path string, q url.Values, out any) error {
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("API request: %w", err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("API %s: %w", c.BaseURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("API %s: read: %w", c.BaseURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e apiv1.ErrorResponse
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("API %s: %d: %s", c.BaseURL, resp.StatusCode, e.Error.Message)
		}
		return fmt.Errorf("API %s: %s", c.BaseURL, resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("API %s: decode: %w", c.BaseURL, err)
	}
	return nil
}
