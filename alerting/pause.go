package alerting

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/netstrata/netstrata/internal/periodic"
)

// pauseGuard notices that this process was stopped (SIGSTOP, a VM or a
// long GC pause): its own clock then jumps while nothing ran. A replica
// stopped for longer than the group's session timeout has lost the
// active role without knowing it yet, and another replica may be active:
// until its consumer's next heartbeats tell (the role is lost) or do not
// (it is kept), it neither evaluates nor sends. A pause shorter than the
// group's session timeout only delays the next evaluation and sends.
type pauseGuard struct {
	threshold time.Duration // a gap this long between two beats is a pause
	doubt     time.Duration // how long after a pause the role is doubted
	started   time.Time
	last      atomic.Int64 // last beat, in ns since started (monotonic)
	until     atomic.Int64 // doubted until, in ns since started
	paused    func()       // called when a pause was noticed
}

// guardBeat is how often the guard looks at the clock.
const guardBeat = 250 * time.Millisecond

func newPauseGuard(threshold, doubt time.Duration, paused func()) *pauseGuard {
	return &pauseGuard{threshold: threshold, doubt: doubt, started: time.Now(), paused: paused}
}

// run beats until ctx ends.
func (g *pauseGuard) run(ctx context.Context) {
	periodic.Every(ctx, guardBeat, func() {
		g.ok()
		g.last.Store(int64(time.Since(g.started)))
	})
}

// ok says whether this replica may act now: no pause noticed within
// doubt. Whoever runs first after a pause, the guard's beat or a caller,
// notices it.
func (g *pauseGuard) ok() bool {
	now := int64(time.Since(g.started))
	if now-g.last.Load() > int64(g.threshold) {
		if g.until.Swap(now+int64(g.doubt)) < now && g.paused != nil {
			g.paused()
		}
		g.last.Store(now)
	}
	return now >= g.until.Load()
}

// doubted says whether a pause was noticed within doubt.
func (g *pauseGuard) doubted() bool { return int64(time.Since(g.started)) < g.until.Load() }
