// Package periodic runs a function on a fixed interval until its
// context ends: the background loops of every component (cache
// refreshes, lag and health checks, file watches, samplers).
package periodic

import (
	"context"
	"time"
)

// Every calls f every d, the first time d after the call, until ctx is
// done. A call of f that outlasts d delays the next one rather than
// overlapping it.
func Every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
