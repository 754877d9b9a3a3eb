package correlator

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// Four members over 12 partitions: one is killed under load, another is
// paused past its session timeout between decoding a batch and inserting
// it, and resumed once the others stored everything, its batch
// included. The paused member is fenced: every flow is stored once, in
// the raw table and the rollups.
func TestAKilledAndAPausedMemberLoseAndDuplicateNothing(t *testing.T) {
	testKillAndPause(t, pauseBeforeFence)
}

// The same, paused after the fencing check, right before its INSERT: the
// INSERT checks again.
func TestAMemberPausedAfterItsFenceCheckIsFencedAtItsInsert(t *testing.T) {
	testKillAndPause(t, pauseBeforeInsert)
}

// The same, paused inside its raw flows' INSERT request, past every
// check: the member that takes its partitions finds its batch
// unfinished and inserts it under the same tokens, so the paused INSERT,
// sent late, is dropped as a repeat.
func TestAMemberPausedInsideItsInsertDuplicatesNothing(t *testing.T) {
	testKillAndPause(t, pauseInsideInsert)
}

// Where the paused member stops.
const (
	pauseBeforeFence = iota
	pauseBeforeInsert
	pauseInsideInsert
)

func testKillAndPause(t *testing.T, at int) {
	e := newEnvPartitions(t, 12)
	const n = 24000
	done := e.stream(n, 10*time.Second)
	a := startChild(t, e.childConfig("g", 400, 0))
	b := startChild(t, e.childConfig("g", 400, 0))
	paused := e.childConfig("g", 400, 0)
	paused.PauseAt = 3
	paused.PauseInInsert = at == pauseBeforeInsert
	paused.PauseInsideInsert = at == pauseInsideInsert
	p := startChild(t, paused)
	waitLog(t, p, "pausing", 2*time.Minute)
	e.waitRows("SELECT count() FROM flows", n/4, 2*time.Minute)
	a.kill9()
	startChild(t, e.childConfig("g", 700, 0))
	done()
	// The paused member's partitions went to the others, which stored
	// the records it holds.
	e.waitRows("SELECT count() FROM flows", n, 3*time.Minute)
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	waitLog(t, p, "resumed", time.Minute)
	time.Sleep(5 * time.Second) // a late INSERT would show up now
	e.assertExactlyOnce("flows", n)
	e.assertRollups(n)
	if at != pauseInsideInsert && !strings.Contains(p.out.String(), "fenced") {
		t.Errorf("the paused member did not log that it was fenced")
	}
	_ = b
}

// waitLog waits until the child logged line.
func waitLog(t *testing.T, c *child, line string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(c.out.String(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("the child did not log %q within %v; output:\n%s", line, timeout, tail(c.out.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
