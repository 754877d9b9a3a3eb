// Package investigation answers the product's question: what made the
// traffic of a node, an interface or an address rise, and did its
// sessions suffer. It reads every layer (SNMP, flows, the agents'
// sockets, pods) through the query builder and names a layer it finds
// no data in instead of failing. The server's other endpoints reuse its
// readers of the traffic map, the reconciliation and the flows outside a
// range.
package investigation

import (
	"context"
	"fmt"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

// Investigator runs investigations and the reads the endpoints share
// with them against one database.
type Investigator struct {
	Run      query.Run     // runs a SELECT (the server's, with its timeout, metrics and logs)
	RawRange time.Duration // api.raw_range: ranges up to it read the raw tables, longer ones the minute rollups
	// LayersOff says why a layer is off in this process (a component
	// that could not start); nil when nothing is known.
	LayersOff func() map[string]string
}

// investigation is one run of the analysis of a subject over a range:
// what each step reads and what it hands the next. The steps, each in
// its own file:
//
//  1. window (window.go): the layers' series, the spike window and its
//     baseline;
//  2. attribution (attribution.go): the socket and flow groups of the
//     increase (groups.go, sockets.go), its ports, IPs, sessions, pods
//     and processes (contributors.go), the sessions' health (health.go)
//     and their traffic map (trafficmap.go);
//  3. at once: the path's interfaces and their reconciliation
//     (paths.go), the pods' status (pods.go), and where the flows lie
//     when none is in the range (outside.go);
//  4. the layers' status and the verdict (verdict.go).
//
// Each layer is optional: a step with no data leaves its part empty and
// the layer is named missing; a query that fails names its layer.
type investigation struct {
	c        *Investigator
	sc       *Scope
	from, to time.Time
	spans    map[string]query.Span
	step     time.Duration
	rows     map[string]uint64 // what each layer contributed
	inv      *apiv1.Investigation

	series     layerSeries
	windows    spikeWindows
	groups     []socketGroup
	flowGroups []flowGroup
}

// layerError names the layer whose query failed.
func layerError(layer string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s layer: %w", layer, err)
}

// Alongside are reads of the caller's that need what a step found: each
// runs at the same time as the steps after that one, instead of after
// the answer. Either may be nil.
type Alongside struct {
	// Spike needs the spike window (the event the answer reports as
	// spike): it runs at once with steps 2–3.
	Spike func(ctx context.Context, spike query.Window) error
	// Path needs the interfaces the subject's traffic crossed (the
	// answer's interfaces: the subject's own first, then by their flows'
	// bytes in the spike, with what SNMP polled of them; read only): it
	// runs at once with their reconciliation, the pods' status and the
	// flows outside the range.
	Path func(ctx context.Context, interfaces []apiv1.PathInterface) error
}

// Investigate runs the analysis of sc over [from, to); each layer is
// optional. alongside run with the steps after the one they need and
// fail the investigation as they do.
func (c *Investigator) Investigate(ctx context.Context, sc *Scope, from, to time.Time, alongside ...Alongside) (*apiv1.Investigation, error) {
	if err := c.prepare(ctx, sc, from, to); err != nil {
		return nil, err
	}
	r := c.newInvestigation(sc, from, to)
	if err := r.findWindow(ctx); err != nil {
		return nil, err
	}
	var outside *apiv1.OutsideRange
	var onPath []func(context.Context, []apiv1.PathInterface) error
	steps := []func() error{func() error {
		if err := r.attribute(ctx); err != nil {
			return err
		}
		return query.Concurrently(
			func() error { return r.pathInterfaces(ctx, onPath...) },
			func() error { return r.podStatus(ctx) },
			func() (err error) { outside, err = r.flowsOutside(ctx); return err },
		)
	}}
	for _, a := range alongside {
		if a.Spike != nil {
			steps = append(steps, func() error { return a.Spike(ctx, r.windows.event) })
		}
		if a.Path != nil {
			onPath = append(onPath, a.Path)
		}
	}
	if err := query.Concurrently(steps...); err != nil {
		return nil, err
	}
	r.judge(outside)
	return r.inv, nil
}

// newInvestigation is the run of sc over [from, to) before its first
// step: every list of the answer empty, not null.
func (c *Investigator) newInvestigation(sc *Scope, from, to time.Time) *investigation {
	return &investigation{c: c, sc: sc, from: from, to: to, rows: map[string]uint64{},
		spans: query.SpansFor(from, to, c.RawRange), step: seriesStep(from, to, c.RawRange),
		inv: &apiv1.Investigation{Subject: sc.subject, From: from, To: to, Contributors: emptyContributors(),
			TrafficMap: apiv1.TrafficMap{Nodes: []apiv1.MapNode{}, Edges: []apiv1.MapEdge{}}, Health: []apiv1.SessionHealth{},
			Interfaces: []apiv1.PathInterface{}, Reconciliation: []apiv1.Reconciliation{}, Pods: []apiv1.PodStatus{}, Missing: []string{}}}
}
