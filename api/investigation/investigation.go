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

// Investigate runs the analysis of sc over [from, to); each layer is
// optional.
func (c *Investigator) Investigate(ctx context.Context, sc *Scope, from, to time.Time) (*apiv1.Investigation, error) {
	if err := c.prepare(ctx, sc, from, to); err != nil {
		return nil, err
	}
	r := &investigation{c: c, sc: sc, from: from, to: to, rows: map[string]uint64{},
		spans: query.SpansFor(from, to, c.RawRange), step: seriesStep(from, to, c.RawRange),
		inv: &apiv1.Investigation{Subject: sc.subject, From: from, To: to, Contributors: emptyContributors(),
			TrafficMap: apiv1.TrafficMap{Nodes: []apiv1.MapNode{}, Edges: []apiv1.MapEdge{}}, Health: []apiv1.SessionHealth{},
			Interfaces: []apiv1.PathInterface{}, Reconciliation: []apiv1.Reconciliation{}, Pods: []apiv1.PodStatus{}, Missing: []string{}}}
	if err := r.findWindow(ctx); err != nil {
		return nil, err
	}
	if err := r.attribute(ctx); err != nil {
		return nil, err
	}
	var outside *apiv1.OutsideRange
	err := concurrently(
		func() error { return r.pathInterfaces(ctx) },
		func() error { return r.podStatus(ctx) },
		func() (err error) { outside, err = r.flowsOutside(ctx); return err },
	)
	if err != nil {
		return nil, err
	}
	r.judge(outside)
	return r.inv, nil
}

// findWindow is step 1: the series of every layer the subject can be
// restricted to, the rows each holds in the range, and the windows.
func (r *investigation) findWindow(ctx context.Context) (err error) {
	if r.series, err = r.c.seriesByLayer(ctx, r.sc, r.spans, r.from, r.to, r.step); err != nil {
		return err
	}
	for layer, s := range r.series.bytes {
		for _, b := range r.series.inRange(s, r.step) {
			if b.V > 0 {
				r.rows[layer]++
			}
		}
	}
	r.windows = findWindows(r.sc, r.series, r.from, r.to, r.step)
	return nil
}

// attribute is step 2: who and what account for the increase, their
// sessions' health and the map between them.
func (r *investigation) attribute(ctx context.Context) (err error) {
	inv, w := r.inv, r.windows
	var baseRetr *uint64
	r.groups, r.flowGroups, baseRetr, err = r.c.contributorGroups(ctx, r.sc, r.spans, r.series, w, r.from, r.to, r.step)
	if err != nil {
		return err
	}
	r.rows["sockets"] += uint64(len(r.groups))
	r.rows["flows"] += uint64(len(r.flowGroups))
	inv.Spike, inv.Baseline, inv.Growth = w.measure(r.series)
	inv.Baseline.Retransmits, inv.Spike.Retransmits = baseRetr, retransmitsIn(r.groups, 1)
	if !w.found && !w.retr {
		inv.Spike.Note = "no spike found: the last quarter of the range against the quarter before"
	}
	if len(r.groups) > 0 && r.sc.subject.Kind != "interface" {
		inv.Contributors = socketContributors(r.groups, w.found)
	} else if len(r.flowGroups) > 0 {
		inv.Contributors = flowContributors(r.flowGroups, w.found)
		if len(r.groups) > 0 {
			inv.Contributors.Processes = socketContributors(r.groups, w.found).Processes
		}
	}
	inv.Health = sessionHealth(r.groups)
	inv.TrafficMap = contributorMap(r.groups, r.flowGroups, inv.Contributors, inv.Health)
	return nil
}

// flowsOutside is where the subject's flows lie when the flows layer has
// none in the range (nil otherwise).
func (r *investigation) flowsOutside(ctx context.Context) (*apiv1.OutsideRange, error) {
	if r.rows["flows"] > 0 || r.sc.flows == nil {
		return nil, nil
	}
	o, err := r.c.OutsideRange(ctx, r.sc.flows, r.from, r.to)
	return o, layerError("flows", err)
}

// judge is step 4: each layer's status and the verdict.
func (r *investigation) judge(outside *apiv1.OutsideRange) {
	inv := r.inv
	r.rows["snmp"] += uint64(countSNMP(inv.Interfaces))
	r.rows["pods"] = uint64(len(inv.Pods))
	for _, layer := range []string{"snmp", "flows", "sockets", "pods"} {
		n := r.rows[layer]
		ls := apiv1.LayerStatus{Layer: layer, Available: n > 0, Rows: n}
		if !ls.Available {
			ls.Note = r.c.missingNote(layer, r.sc)
			inv.Missing = append(inv.Missing, layer)
			if layer == "flows" && outside != nil {
				ls.Outside = outside
				if outside.Rows > 0 {
					ls.Note += " in the range; " + outside.Note
				}
			}
		}
		inv.Layers = append(inv.Layers, ls)
	}
	inv.Verdict = verdict(inv, r.groups, r.windows.found)
}
