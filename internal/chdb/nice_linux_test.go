package chdb

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBackgroundMergesRunAtLowerPriority: with the default MergeNice, the
// engine's merge threads run niced once they merge, the rest of the
// process does not.
func TestBackgroundMergesRunAtLowerPriority(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv)
	ctx := context.Background()
	mustExec(t, conn, ctx, "CREATE TABLE m (v UInt64) ENGINE = MergeTree ORDER BY v")
	want := DefaultConfiguration().MergeNice
	var nice map[string]int
	var merged uint64
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		// Parts to merge, until a merge thread has run.
		mustExec(t, conn, ctx, "INSERT INTO m SELECT number FROM numbers(10000)")
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'm' AND NOT active").Scan(&merged); err != nil {
			t.Fatal(err)
		}
		if nice = threadNice(t); merged > 0 && nice["MergeMutate"] == want {
			break
		}
	}
	if merged == 0 {
		t.Fatal("no part was merged in a minute")
	}
	if nice["MergeMutate"] != want {
		t.Errorf("highest nice of the merge threads %d, want %d (threads: %v)", nice["MergeMutate"], want, nice)
	}
	self := filepath.Base(os.Args[0])
	if n := nice[self[:min(15, len(self))]]; n != 0 {
		t.Errorf("the process's own threads run at nice %d, want 0 (threads: %v)", n, nice)
	}
}

// threadNice returns the highest nice value of this process's threads,
// by thread name.
func threadNice(t *testing.T) map[string]int {
	tasks, err := filepath.Glob("/proc/self/task/*/stat")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		fields := strings.Fields(s[end+1:]) // from the state, the stat's 3rd field
		if open < 0 || end < open || len(fields) < 17 {
			t.Fatalf("%s: unexpected stat %q", p, s)
		}
		n, err := strconv.Atoi(fields[16]) // the 19th field: nice
		if err != nil {
			t.Fatalf("%s: nice %q: %v", p, fields[16], err)
		}
		name := s[open+1 : end]
		if v, ok := out[name]; !ok || n > v {
			out[name] = n
		}
	}
	return out
}
