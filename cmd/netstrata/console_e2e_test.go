package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/client"
	"github.com/netstrata/netstrata/cmd/netstrata/demo"
	"github.com/netstrata/netstrata/console"
	"github.com/netstrata/netstrata/internal/testenv"
)

// agentStrategy finds the walk the agent chose in its log.
var agentStrategy = regexp.MustCompile(`msg="npm agent attached".* strategy=(\w+)`)

// consoleTime is how the console writes a time (format.ts).
const consoleTime = "2006-01-02 15:04:05Z"

// checkConsoleInBrowser drives the console of the running standalone
// (the binary embeds it) in Debian's headless Chromium over the lab's
// traffic: console/e2e/standalone.mjs checks the investigation of the
// collector's bridge port (its spike window, port, pods and Sankey),
// the node's investigation reopened from a shared URL, filter completion
// and errors, the interfaces table's sorting and the status page, and
// fails on any error in the browser's console. The interface is the
// subject because its flows come from softflowd on that port only, while
// the agent sees every socket of the machine. The spike window the page
// must show is the API's; here it must overlap the generator's spike.
func checkConsoleInBrowser(t *testing.T, lab *demo.Lab, prof demo.Profile, begin time.Time, sent []demo.Sent, from, to time.Time, sourcesLog string) {
	if _, built := console.Assets(); !built {
		testenv.Skip(t, "console not built: make console, then rebuild")
	}
	chromium := testenv.Command(t, "chromium")
	if _, err := os.Stat("../../console/node_modules/playwright-core"); err != nil {
		testenv.Skip(t, "no playwright-core: cd console && npm ci")
	}
	// The range ends after the traffic (to is 15 s past it) and may not
	// be over yet: rows of that range still arriving between two page
	// loads would change the view. Wait until every layer is past it.
	time.Sleep(time.Until(to.Add(2*lab.Settings.AgentInterval + 5*time.Second)))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	subject := url.Values{"device": {lab.Settings.Device}, "if_index": {fmt.Sprint(lab.IfIndex)},
		"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}}
	inv, err := (&client.Client{BaseURL: lab.Settings.APIURL()}).Investigate(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	subject.Set("kind", "interface") // the console's, not the API's
	spikeBegin := begin.Add(prof.Baseline)
	spikeEnd := spikeBegin.Add(prof.Spike)
	if inv.Spike == nil || !inv.Spike.Start.Before(spikeEnd) || !inv.Spike.End.After(spikeBegin) {
		t.Fatalf("the API's spike window %+v misses the generator's spike %s–%s", inv.Spike, spikeBegin.UTC().Format(time.TimeOnly), spikeEnd.UTC().Format(time.TimeOnly))
	}
	strategy := agentStrategy.FindStringSubmatch(sourcesLog)
	if strategy == nil {
		t.Fatalf("no strategy in the agent's log:\n%s", tailLines(sourcesLog, 20))
	}
	var pods []string
	for _, s := range sent {
		pods = append(pods, demo.PodNamespace+"/"+s.Pod.Pod)
	}
	topo := lab.Topo
	testenv.BrowserScript(t, "../../console", "e2e/standalone.mjs", map[string]any{
		"base": lab.Settings.APIURL(), "chromium": chromium, "screenshots": t.TempDir(), "subject": subject,
		"from": subject.Get("from"), "to": subject.Get("to"),
		"spikeStart": inv.Spike.Start.UTC().Format(consoleTime), "spikeEnd": inv.Spike.End.UTC().Format(consoleTime),
		"node": lab.Settings.Node, "port": demo.CollectorPort, "pods": pods,
		"quiet":       demo.PodNamespace + "/" + topo.Pods[len(topo.Pods)-1].Pod,
		"destination": demo.PodNamespace + "/" + topo.Collector.Pod,
		"iface":       topo.Collector.HostVeth,
		"exporter":    "127.0.0.1",
		"strategy":    strategy[1],
	})
}
