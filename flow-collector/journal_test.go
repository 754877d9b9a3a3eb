package flowcollector

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// TestJournalWritesInProportionToTheChange adds one template to an
// exporter holding a hundred: the file grows by one line, it is not
// rewritten.
func TestJournalWritesInProportionToTheChange(t *testing.T) {
	cfg := testConfig(t)
	c, _ := newTestComponent(t, cfg)
	c.restore()
	now := time.Now()
	for id := uint16(256); id < 356; id++ {
		decodeFrom(c, kindNetFlow, "192.0.2.1", now, templateDatagram(0, id, 32))
	}
	c.persist()
	before := fileSize(t, cfg.TemplatesFile)
	decodeFrom(c, kindNetFlow, "192.0.2.1", now, templateDatagram(0, 400, 32))
	c.persist()
	grown := fileSize(t, cfg.TemplatesFile) - before
	t.Logf("%d-byte journal grew by %d bytes for one template", before, grown)
	if grown <= 0 || grown > 1024 {
		t.Errorf("one template of 32 fields wrote %d bytes", grown)
	}
}

// TestJournalCompactsAtTwiceItsState redefines one template over and
// over: the journal is rewritten when it has grown to twice its state,
// and a restart restores the latest definition.
func TestJournalCompactsAtTwiceItsState(t *testing.T) {
	cfg := testConfig(t)
	c, _ := newTestComponent(t, cfg)
	c.restore()
	now := time.Now()
	var max int64
	const n = 12000 // lines of 30 to 600 bytes: several times compactSlack
	for i := 0; i < n; i++ {
		decodeFrom(c, kindNetFlow, "192.0.2.1", now, templateDatagram(0, 256, 1+i%64))
		c.persist()
		max = maxInt64(max, fileSize(t, cfg.TemplatesFile))
	}
	if limit := 2*c.journal.live + compactSlack + 1024; max > limit {
		t.Errorf("journal reached %d bytes, compaction bound %d", max, limit)
	}
	if lines := strings.Count(readFile(t, cfg.TemplatesFile), "\n"); lines > n/2 {
		t.Errorf("%d lines for %d changes: never compacted", lines, n)
	}
	c2, _ := newTestComponent(t, cfg)
	c2.restore()
	e, _ := c2.exporters.get(testAddr("192.0.2.1"), now)
	tpl, err := e.templates.GetTemplate(9, 0, 256)
	if err != nil || len(templateFields(tpl)[0]) != 1+(n-1)%64 {
		t.Errorf("restored %v (%v), want the latest definition", tpl, err)
	}
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// TestRestoreIsBoundedByTheBudget replays a journal holding far more
// than the budgets, with damaged and over-long lines among them: what is
// kept is within the budget and the rest still restores.
func TestRestoreIsBoundedByTheBudget(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxTemplateBytes = 100 * templateCost(64)
	var b strings.Builder
	b.WriteString(journalFormat + "\n")
	fields := strings.TrimSuffix(strings.Repeat("[1,4],", 64), ",")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, `{"op":"template","exporter":"192.0.2.%d","version":9,"domain":%d,"id":%d,"kind":"data","fields":[%s]}`+"\n", i%4, i%7, 256+i%2000, fields)
		if i%500 == 0 {
			b.WriteString("{not json\n" + strings.Repeat("x", maxJournalLine+10) + "\n")
		}
	}
	b.WriteString(`{"op":"sampling","exporter":"192.0.2.1","version":9,"rate":100}` + "\n")
	b.WriteString(`{"op":"sampling","exporter":"192.0.2.1","version":9,"sampler":2,"rate":99999999999}` + "\n")
	if err := os.WriteFile(cfg.TemplatesFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestComponent(t, cfg)
	c.restore()
	if got := c.budget.bytes.Load(); got > cfg.MaxTemplateBytes || c.budget.count() == 0 {
		t.Errorf("restored %d templates in %d bytes, budget %d", c.budget.count(), got, cfg.MaxTemplateBytes)
	}
	e, _ := c.exporters.get(testAddr("192.0.2.1"), time.Now())
	if r := e.samplingRate(9, 0, 0, 0, 1); r != 100 {
		t.Errorf("sampling rate %d restored, want 100", r)
	}
	if r := e.samplingRate(9, 0, 0, 2, 1); r != 100 {
		t.Errorf("a rate above max_sampling_rate was restored for sampler 2: %d", r)
	}
	if size := fileSize(t, cfg.TemplatesFile); size > int64(len(b.String()))/4 {
		t.Errorf("journal of %d bytes after the restore, not compacted to the state", size)
	}
}

// TestOlderTemplatesFileIsReplaced starts on a file of the previous
// format: nothing is restored, nothing fails, and the file is replaced.
func TestOlderTemplatesFileIsReplaced(t *testing.T) {
	cfg := testConfig(t)
	old := `{"format": 1, "exporters": [{"exporter": "192.0.2.1", "templates": []}]}`
	if err := os.WriteFile(cfg.TemplatesFile, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestComponent(t, cfg)
	c.restore()
	data, err := os.ReadFile(cfg.TemplatesFile)
	if err != nil || strings.TrimSpace(string(data)) != journalFormat {
		t.Errorf("file after the restore: %q (%v)", data, err)
	}
}

func testAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestJournalRewritesAllAfterAWriteError fails the writes (the directory
// is a file), adds templates meanwhile, then lets the disk recover: the
// next write is a compaction that holds every template.
func TestJournalRewritesAllAfterAWriteError(t *testing.T) {
	cfg := testConfig(t)
	blocker := filepath.Join(t.TempDir(), "sub")
	cfg.TemplatesFile = filepath.Join(blocker, "templates.json")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestComponent(t, cfg)
	c.restore()
	now := time.Now()
	for id := uint16(256); id < 266; id++ {
		decodeFrom(c, kindNetFlow, "192.0.2.1", now, templateDatagram(0, id, 4))
		c.persist()
	}
	if c.journal.lastErr == nil || !c.journal.waiting() {
		t.Fatalf("writes into a file as directory: error %v, waiting %v", c.journal.lastErr, c.journal.waiting())
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	c.journal.retryAt = time.Time{} // the retry delay has passed
	c.persist()
	if c.journal.lastErr != nil {
		t.Fatal(c.journal.lastErr)
	}
	c2, _ := newTestComponent(t, cfg)
	c2.restore()
	if n := c2.budget.count(); n != 10 {
		t.Errorf("%d templates restored, want the 10 added while writes failed", n)
	}
}
