package investigation

import (
	"fmt"
	"math"
	"sort"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

// sessionHealth compares each service path's TCP health in the event
// window with its baseline: degraded paths first, then the busiest.
func sessionHealth(groups []socketGroup) []apiv1.SessionHealth {
	paths := map[string]*pathHealth{}
	var order []*pathHealth
	for i := range groups {
		g := &groups[i]
		key, ip, port := g.pathKey()
		a := paths[key]
		if a == nil {
			a = &pathHealth{h: apiv1.SessionHealth{Path: key, RemoteIP: query.IPString(ip), Port: port}, pods: map[string]bool{}, nodes: map[string]bool{}}
			paths[key] = a
			order = append(order, a)
		}
		a.add(g)
	}
	out := make([]apiv1.SessionHealth, 0, len(order))
	for _, a := range order {
		out = append(out, a.health())
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Degraded != out[j].Degraded {
			return out[i].Degraded
		}
		if out[i].Spike.Bytes != out[j].Spike.Bytes {
			return out[i].Spike.Bytes > out[j].Spike.Bytes
		}
		return out[i].Path < out[j].Path
	})
	return out[:min(len(out), 2*maxContributors)]
}

// pathHealth accumulates the socket groups of one service path.
type pathHealth struct {
	h     apiv1.SessionHealth
	pods  map[string]bool
	nodes map[string]bool
	w     [2]windowStats
	rtt   [2][3]float64 // byte-weighted sums of p50, p95 and p99
	jit   [2]float64
}

// add counts a group in both windows; its RTT weighs by its bytes.
func (a *pathHealth) add(g *socketGroup) {
	if g.LocalPod != "" {
		a.pods[podLabel(g.LocalNS, g.LocalPod)] = true
	}
	a.nodes[g.Node] = true
	for wi := range 2 {
		s := g.W[wi]
		a.w[wi].Bytes += s.Bytes
		a.w[wi].Segs += s.Segs
		a.w[wi].Retr += s.Retr
		weight := float64(max(s.Bytes, 1))
		if s.Conns == 0 && s.Bytes == 0 {
			weight = 0
		}
		a.rtt[wi][0] += s.RTTP50 * weight
		a.rtt[wi][1] += s.RTTP95 * weight
		a.rtt[wi][2] += s.RTTP99 * weight
		a.jit[wi] += s.Jitter * weight
		a.w[wi].Conns += uint64(weight) // total weight, reused as the divisor
	}
}

// health is the path's figures in both windows, judged.
func (a *pathHealth) health() apiv1.SessionHealth {
	for wi, hs := range []*apiv1.HealthStats{&a.h.Baseline, &a.h.Spike} {
		w := a.w[wi]
		hs.Bytes, hs.Segments, hs.Retransmits = w.Bytes, w.Segs, w.Retr
		if w.Segs > 0 {
			hs.RetransmitRate = apiv1.Round(float64(w.Retr)/float64(w.Segs), 5)
		}
		if w.Conns > 0 {
			d := float64(w.Conns)
			hs.RTTAvgUs, hs.RTTP95Us, hs.RTTP99Us = apiv1.Round(a.rtt[wi][0]/d, 1), apiv1.Round(a.rtt[wi][1]/d, 1), apiv1.Round(a.rtt[wi][2]/d, 1)
			hs.RTTP50Us, hs.JitterUs = hs.RTTAvgUs, apiv1.Round(a.jit[wi]/d, 1)
		}
	}
	if len(a.pods) == 1 {
		for p := range a.pods {
			a.h.Pod = p
		}
	}
	if len(a.nodes) == 1 {
		for n := range a.nodes {
			a.h.Node = n
		}
	}
	judgeHealth(&a.h)
	return a.h
}

// judgeHealth marks a path degraded when its retransmit rate rose
// retransmitFactor-fold (with enough retransmits to mean something) or
// its RTT p95 doubled by at least 5 ms. p95, as the console, the CLI
// report and the alert rules show it: one slow handshake moves a p99.
func judgeHealth(h *apiv1.SessionHealth) {
	b, s := h.Baseline, h.Spike
	if b.Retransmits > 0 {
		h.RetransmitGrowth = apiv1.Round(float64(s.Retransmits)/float64(b.Retransmits), 1)
	}
	if b.RTTP95Us > 0 {
		h.RTTGrowth = apiv1.Round(s.RTTP95Us/b.RTTP95Us, 2)
	}
	baseRate := math.Max(b.RetransmitRate, minRetransmitRate)
	if s.Retransmits >= minRetransmits && s.RetransmitRate >= retransmitFactor*baseRate {
		h.Degraded = true
		if b.Retransmits > 0 {
			h.Reason = fmt.Sprintf("retransmits %s× baseline (%d vs %d, %.2f%% of segments)", apiv1.TrimFloat(float64(s.Retransmits)/float64(b.Retransmits)), s.Retransmits, b.Retransmits, s.RetransmitRate*100)
		} else {
			h.Reason = fmt.Sprintf("retransmits rose from 0 to %d (%.2f%% of segments)", s.Retransmits, s.RetransmitRate*100)
		}
	}
	if b.RTTP95Us > 0 && s.RTTP95Us >= rttFactor*b.RTTP95Us && s.RTTP95Us-b.RTTP95Us >= minRTTIncreaseUs {
		reason := fmt.Sprintf("RTT p95 %s× baseline (%.1f ms vs %.1f ms)", apiv1.TrimFloat(s.RTTP95Us/b.RTTP95Us), s.RTTP95Us/1000, b.RTTP95Us/1000)
		if h.Degraded {
			h.Reason += "; " + reason
		} else {
			h.Degraded, h.Reason = true, reason
		}
	}
}
