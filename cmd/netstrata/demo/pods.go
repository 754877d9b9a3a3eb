package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// PodNamespace is the Kubernetes namespace the lab's pods claim.
const PodNamespace = "shop"

// PodRecords describes the lab's namespaces as the pods of node that the
// agent would publish in Kubernetes (outside it, the agent knows
// processes and cgroups only).
func PodRecords(topo *Topology, node string, now time.Time) []*record.Pod {
	var out []*record.Pod
	for _, n := range append(append([]Namespace{}, topo.Pods...), topo.Collector) {
		out = append(out, &record.Pod{
			TimeNs:      uint64(now.UnixNano()),
			Uid:         "demo-" + topo.Suffix + "-" + n.Pod,
			Name:        n.Pod,
			Namespace:   PodNamespace,
			Node:        node,
			Ips:         [][]byte{record.IPBytes(n.IP)},
			OwnerKind:   "Deployment",
			OwnerName:   n.Workload,
			Phase:       "Running",
			StartTimeNs: uint64(now.Add(-time.Minute).UnixNano()),
			Labels:      map[string]string{"app": n.Workload},
			Containers:  []*record.Container{{Name: n.Workload, Image: "netstrata/demo-" + n.Workload + ":1"}},
		})
	}
	return out
}

// PublishPods publishes pods to netstrata.pods.v1 and waits until the
// broker has them.
func PublishPods(ctx context.Context, brokers []string, pods []*record.Pod, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := bus.DefaultConfiguration()
	cfg.Brokers = brokers
	cfg.ClientID = "netstrata-demo"
	p, err := bus.NewProducer(cfg, telemetry.NewReporter(log).Component("demo-pods"), record.TopicPods)
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	for _, pod := range pods {
		if err := p.PublishMessage(record.TopicPods, []byte(pod.Uid), pod); err != nil {
			_ = p.Stop()
			return err
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ferr := p.Flush(fctx)
	if err := p.Stop(); err != nil && ferr == nil {
		ferr = err
	}
	if ferr != nil {
		return fmt.Errorf("publish pods: %w", ferr)
	}
	return nil
}
