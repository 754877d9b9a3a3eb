package client

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
)

// RunAlertsCLI is `netstrata alerts`: the alerts firing now, or the
// history of a range, from a running API. Usage goes to stdout on -h,
// where the returned error is flag.ErrHelp.
func RunAlertsCLI(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(stdout)
	conn := addConnFlags(fs)
	history := fs.Bool("history", false, "list the transitions (fired, resolved) of the range instead of what fires now")
	rule := fs.String("rule", "", "only this rule")
	since := fs.String("since", "24h", "with --history: look back this long (e.g. 30m, 6h, 2d)")
	limit := fs.Int("limit", 100, "at most this many alerts")
	asJSON := fs.Bool("json", false, "print the JSON answer")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: netstrata alerts [--history [--since 24h]] [--rule NAME] [--json]")
		fmt.Fprintln(stdout, "Lists the alerts firing now (or the alert history) from a running netstrata API.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("alerts: unexpected argument %q", fs.Arg(0))
	}
	q := url.Values{"state": {"firing"}, "limit": {fmt.Sprint(*limit)}}
	if *history {
		from, err := fromSince("alerts", *since)
		if err != nil {
			return err
		}
		q.Set("state", "history")
		q.Set("from", from)
	}
	if *rule != "" {
		q.Set("rule", *rule)
	}
	c, err := conn.client("alerts")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *conn.timeout)
	defer cancel()
	if *asJSON {
		return c.printRaw(ctx, apiv1.Prefix+"/alerts", q, stdout)
	}
	var resp apiv1.AlertsResponse
	if err := c.Get(ctx, apiv1.Prefix+"/alerts", q, &resp); err != nil {
		return err
	}
	return RenderAlerts(stdout, resp.Alerts)
}

// RenderAlerts prints alerts as a table: status, since, rule, the
// subject's labels, summary and verdict.
func RenderAlerts(w io.Writer, alerts []apiv1.Alert) error {
	if len(alerts) == 0 {
		_, err := fmt.Fprintln(w, "no alerts")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSINCE\tRULE\tSUBJECT\tSUMMARY")
	for _, a := range alerts {
		when := a.StartsAt
		if a.EndsAt != nil {
			when = *a.EndsAt
		}
		summary := a.Annotations["summary"]
		if v := a.Annotations["verdict"]; v != "" {
			summary += " — " + v
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Status, when.UTC().Format(time.DateTime), a.Rule, subjectLabels(a.Labels), summary)
	}
	return tw.Flush()
}

// subjectLabels are an alert's labels but its name, kind and severity.
func subjectLabels(labels map[string]string) string {
	var parts []string
	for k, v := range labels {
		if k != "alertname" && k != "kind" && k != "severity" {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
