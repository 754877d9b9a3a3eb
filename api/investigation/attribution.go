package investigation

import (
	"context"
	"math"
	"time"

	"github.com/netstrata/netstrata/api/query"
)

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

// contributorGroups reads the subject's socket and flow groups, each
// layer over the spike with its blurred edges (see excessOverBaseline)
// against a baseline clear of them, and brings both windows to the
// event's duration, so that a share or a "3× more" is a rate. baseRetr
// is the baseline's own retransmits (nil without agent data).
func (c *Investigator) contributorGroups(ctx context.Context, sc *Scope, spans map[string]query.Span, ls layerSeries, w spikeWindows,
	from, to time.Time, step time.Duration) (groups []socketGroup, flows []flowGroup, baseRetr *uint64, err error) {
	flowsBase, flowsAt := w.layerWindows(ls, "flows", from, to, step)
	socketsBase, socketsAt := w.layerWindows(ls, "sockets", from, to, step)
	err = query.Concurrently(func() (err error) {
		if sc.sockets != nil {
			groups, err = c.socketGroups(ctx, spans["sockets"], sc.sockets, socketsBase, socketsAt, maxGroups)
		}
		return layerError("sockets", err)
	}, func() (err error) {
		if sc.flows != nil {
			flows, err = c.flowGroups(ctx, spans["flows"], sc.flows, flowsBase, flowsAt)
		}
		return layerError("flows", err)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if sc.subject.Kind == "interface" && len(flows) > 0 {
		// The agents' view of the conversations crossing the interface.
		if groups, err = c.socketGroupsForFlows(ctx, spans["sockets"], flows, socketsBase, socketsAt); err != nil {
			return nil, nil, nil, layerError("sockets", err)
		}
	}
	baseRetr = retransmitsIn(groups, 0)
	if w.blur.Dur() > 0 {
		excessOverBaseline(groups, nil, socketsBase, socketsAt, w.event)
		excessOverBaseline(nil, flows, flowsBase, flowsAt, w.event)
	} else {
		scaleWindow(groups, flows, 0, w.event.Dur().Seconds()/w.base.Dur().Seconds())
	}
	return groups, flows, baseRetr, nil
}

// retransmitsIn sums the groups' retransmits in window wi; nil (unknown)
// without agent data.
func retransmitsIn(groups []socketGroup, wi int) *uint64 {
	if len(groups) == 0 {
		return nil
	}
	var n uint64
	for _, g := range groups {
		n += g.W[wi].Retr
	}
	return &n
}

// excessOverBaseline turns counts over the baseline and over measured
// (the event with its blurred edges and some margin) into counts over
// the event: the baseline's rate over the event's duration, and that
// plus what measured held above the baseline's rate. Every byte of the
// spike is in measured wherever the spreading of the edge intervals put
// it, so each contributor's increase is exact when its level before and
// after the spike is its baseline (or it stops with the data).
func excessOverBaseline(groups []socketGroup, flows []flowGroup, base, measured, event query.Window) {
	b, m, d := base.Dur().Seconds(), measured.Dur().Seconds(), event.Dur().Seconds()
	if b <= 0 || m <= 0 {
		return
	}
	conv := func(w0, w1 uint64) (uint64, uint64) {
		rate := float64(w0) / b
		return uint64(math.Round(rate * d)), uint64(math.Round(max(0, rate*d+float64(w1)-rate*m)))
	}
	for i := range groups {
		w := &groups[i].W
		w[0].Bytes, w[1].Bytes = conv(w[0].Bytes, w[1].Bytes)
		w[0].Sent, w[1].Sent = conv(w[0].Sent, w[1].Sent)
		w[0].Segs, w[1].Segs = conv(w[0].Segs, w[1].Segs)
		w[0].Retr, w[1].Retr = conv(w[0].Retr, w[1].Retr)
		w[0].Conns = uint64(math.Round(float64(w[0].Conns) * d / b))
	}
	for i := range flows {
		flows[i].W[0], flows[i].W[1] = conv(flows[i].W[0], flows[i].W[1])
	}
}

// scaleWindow brings window wi's counts to the length of the event
// window (ratio = event / that window's duration); ratios within a
// window (retransmit rate, RTT) are unchanged.
func scaleWindow(groups []socketGroup, flows []flowGroup, wi int, ratio float64) {
	if ratio == 1 || ratio <= 0 || math.IsInf(ratio, 0) || math.IsNaN(ratio) {
		return
	}
	scale := func(v uint64) uint64 { return uint64(math.Round(float64(v) * ratio)) }
	for i := range groups {
		w := &groups[i].W[wi]
		w.Bytes, w.Sent, w.Segs, w.Retr, w.Conns = scale(w.Bytes), scale(w.Sent), scale(w.Segs), scale(w.Retr), scale(w.Conns)
	}
	for i := range flows {
		flows[i].W[wi] = scale(flows[i].W[wi])
	}
}
