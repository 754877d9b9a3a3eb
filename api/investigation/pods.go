package investigation

import (
	"context"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// contributorPods are the pods among the contributors, and the local
// pods of the sockets they come from.
func contributorPods(ct apiv1.Contributors, groups []socketGroup) []string {
	pods := firsts[string]{limit: 2 * maxContributors} // ct.Pods holds up to maxContributors
	for _, p := range ct.Pods {
		pods.add(p.Key, p.Key)
	}
	for i := range groups {
		if k := podLabel(groups[i].RemoteNS, groups[i].RemotePod); k != "" && groups[i].W[1].Bytes > 0 {
			pods.add(k, k)
		}
	}
	return pods.list
}

// podStatus reads the latest state of pods ("namespace/name") and their
// restarts since since.
func (c *Investigator) podStatus(ctx context.Context, pods []string, since, to time.Time) ([]apiv1.PodStatus, error) {
	out := []apiv1.PodStatus{}
	if len(pods) == 0 {
		return out, nil
	}
	q := &query.Builder{}
	keys := make([][]any, len(pods))
	for i, p := range pods {
		ns, name, _ := strings.Cut(p, "/")
		keys[i] = []any{ns, name}
	}
	q.TupleIn([]string{"namespace", "name"}, []string{"String", "String"}, keys)
	q.And("time < " + q.Bind("DateTime64(3, 'UTC')", query.Time(to)))
	sincePh := q.Bind("DateTime64(3, 'UTC')", query.Time(since))
	sql := `SELECT namespace, name, argMax(node, time), argMax(owner_kind, time), argMax(owner_name, time), argMax(phase, time),
	argMax(restarts, time), argMaxIf(restarts, time, time < ` + sincePh + `), countIf(time < ` + sincePh + `) > 0, argMax(deleted, time)
FROM ` + schema.TablePods + ` WHERE ` + q.Where() + `
GROUP BY namespace, name
ORDER BY namespace, name`
	err := c.Run(ctx, "investigate_pods", sql, q.Args, func(rows driver.Rows) error {
		var p apiv1.PodStatus
		var kind, owner string
		var before uint32
		var hadBefore, deleted bool
		if err := rows.Scan(&p.Namespace, &p.Name, &p.Node, &kind, &owner, &p.Phase, &p.Restarts, &before, &hadBefore, &deleted); err != nil {
			return err
		}
		if owner != "" {
			p.Workload = kind + "/" + owner
		}
		if hadBefore && p.Restarts > before {
			p.RestartsInWindow = p.Restarts - before
		}
		if deleted {
			p.Phase = "Deleted"
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// podStatus is step 3's pods: the state and restarts of the pods among
// the contributors, from the baseline's start.
func (r *investigation) podStatus(ctx context.Context) (err error) {
	r.inv.Pods, err = r.c.podStatus(ctx, contributorPods(r.inv.Contributors, r.groups), r.windows.base.Start, r.to)
	return layerError("pods", err)
}
