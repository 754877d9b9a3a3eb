package flowcollector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// journal persists templates, learnt sampling rates and system init
// times as JSON lines, one change a line, so that what is written is in
// proportion to what changed. When the file has grown to twice what it
// describes it is rewritten from memory (compacted); the state in
// memory is bounded by the budgets, so the file is too.
type journal struct {
	path  string
	dirty chan struct{}

	mu       sync.Mutex
	enabled  bool
	queue    []journalOp
	overflow bool // the queue was dropped: compact instead of appending

	// Owned by the writer (the housekeeping goroutine).
	f        *os.File
	retryAt  time.Time // after a failed write: not before, so that a full disk costs no busy loop
	lastErr  error
	size     int64 // bytes in the file
	live     int64 // bytes of the last compaction: what the state takes
	unsynced bool
}

// journalFormat is the first line of the file.
const journalFormat = `{"format":2}`

const (
	maxQueuedOps   = 1 << 16 // beyond, the next write compacts
	compactSlack   = 1 << 20 // bytes appended beyond twice the state before compacting
	maxJournalLine = 1 << 20 // a template of 65535 fields fits; longer lines are skipped
	journalRetry   = 10 * time.Second
)

// journalOp is one line: op is template, withdraw, sampling, sysinit or
// forget (the exporter was evicted).
type journalOp struct {
	Op       string     `json:"op"`
	Exporter netip.Addr `json:"exporter"`
	Version  uint16     `json:"version,omitempty"`
	Domain   uint32     `json:"domain,omitempty"`
	ID       uint16     `json:"id,omitempty"`
	Kind     string     `json:"kind,omitempty"`
	Fields   fieldList  `json:"fields,omitempty"`
	Scopes   fieldList  `json:"scopes,omitempty"`
	Sampler  uint64     `json:"sampler,omitempty"`
	Rate     uint64     `json:"rate,omitempty"`
	MS       uint64     `json:"ms,omitempty"`
}

func newJournal(path string) *journal {
	return &journal{path: path, dirty: make(chan struct{}, 1)}
}

// enable starts recording changes (after the restore, which is followed
// by a compaction).
func (j *journal) enable() {
	j.mu.Lock()
	j.enabled = j.path != ""
	j.mu.Unlock()
}

// push queues a change; it never blocks on the disk.
func (j *journal) push(op journalOp) {
	j.mu.Lock()
	if !j.enabled {
		j.mu.Unlock()
		return
	}
	switch {
	case j.overflow:
	case len(j.queue) >= maxQueuedOps:
		j.overflow, j.queue = true, nil
	default:
		j.queue = append(j.queue, op)
	}
	j.mu.Unlock()
	select {
	case j.dirty <- struct{}{}:
	default:
	}
}

func (j *journal) template(a netip.Addr, key uint64, tpl any) { j.push(templateOp(a, key, tpl)) }

func (j *journal) withdrawn(a netip.Addr, keys []uint64) {
	for _, k := range keys {
		j.push(journalOp{Op: "withdraw", Exporter: a, Version: uint16(k >> 48), Domain: uint32(k >> 16), ID: uint16(k)})
	}
}

func (j *journal) sampling(a netip.Addr, k samplingKey, rate uint64) {
	j.push(journalOp{Op: "sampling", Exporter: a, Version: k.version, Domain: k.domain, Sampler: k.sampler, Rate: rate})
}

func (j *journal) sysInit(a netip.Addr, domain uint32, ms uint64) {
	j.push(journalOp{Op: "sysinit", Exporter: a, Domain: domain, MS: ms})
}

func (j *journal) forget(a netip.Addr) { j.push(journalOp{Op: "forget", Exporter: a}) }

// flush appends the queued changes, or rewrites the file from state()
// when it has grown to twice the state, when the queue overflowed, or
// when it has not been opened yet.
func (j *journal) flush(state func() []journalOp) error {
	j.mu.Lock()
	ops, overflow := j.queue, j.overflow
	j.queue, j.overflow = nil, false
	j.mu.Unlock()
	if j.path == "" {
		return nil
	}
	if time.Now().Before(j.retryAt) {
		j.failed() // what was queued is in memory: the retry writes it all
		return j.lastErr
	}
	var err error
	if overflow || j.f == nil || j.size > 2*j.live+compactSlack {
		err = j.compact(state())
	} else {
		err = j.append(ops)
	}
	if err != nil {
		j.failed()
		j.retryAt = time.Now().Add(journalRetry)
	}
	j.lastErr = err
	return err
}

// waiting reports whether changes wait to be written: the housekeeping
// flushes them once a second even without a new change (after an error).
func (j *journal) waiting() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.overflow || len(j.queue) > 0
}

// failed makes the next write a compaction: the file may lack changes.
func (j *journal) failed() {
	j.mu.Lock()
	j.overflow, j.queue = true, nil
	j.mu.Unlock()
}

func (j *journal) append(ops []journalOp) error {
	if len(ops) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, op := range ops {
		if err := encodeOp(&buf, op); err != nil {
			return err
		}
	}
	n, err := j.f.Write(buf.Bytes())
	j.size += int64(n)
	j.unsynced = true
	if err != nil {
		return fmt.Errorf("append to %s: %w", j.path, err)
	}
	return nil
}

func encodeOp(w io.Writer, op journalOp) error {
	b, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("encode %s of %s: %w", op.Op, op.Exporter, err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// compact writes the state to a temporary file, syncs it and renames it
// over the journal, which is then appended to.
func (j *journal) compact(ops []journalOp) error {
	if err := os.MkdirAll(filepath.Dir(j.path), 0o750); err != nil {
		return fmt.Errorf("templates dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".templates-*")
	if err != nil {
		return fmt.Errorf("templates file: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 64<<10)
	_, err = io.WriteString(w, journalFormat+"\n")
	for i := 0; err == nil && i < len(ops); i++ {
		err = encodeOp(w, ops[i])
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	size, _ := tmp.Seek(0, io.SeekCurrent)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		return fmt.Errorf("rename to %s: %w", j.path, err)
	}
	return j.reopen(size)
}

func (j *journal) reopen(size int64) error {
	if j.f != nil {
		j.f.Close()
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		j.f = nil
		return fmt.Errorf("open %s: %w", j.path, err)
	}
	j.f, j.size, j.live, j.unsynced = f, size, size, false
	return nil
}

// sync makes appended changes durable; called once a second rather than
// after each append. A killed process loses nothing appended (the
// kernel has it); a crashed machine loses at most that second.
func (j *journal) sync() error {
	if j.f == nil || !j.unsynced {
		return nil
	}
	j.unsynced = false
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", j.path, err)
	}
	return nil
}

func (j *journal) close() {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

var errJournalFormat = errors.New("not a templates journal of format 2")

// replayJournal reads the journal and applies each change in order, holding
// one line at a time: what it restores is bounded by the budgets that
// apply() goes through, not by the file. Lines that do not parse, or
// longer than maxJournalLine, are skipped and counted.
func replayJournal(path string, apply func(journalOp)) (applied, skipped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read templates: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, maxJournalLine)
	first := true
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			skipped++
			if err = skipLine(r); err != nil {
				return applied, skipped, nil
			}
			continue
		}
		if len(line) > 0 {
			if first {
				if string(bytes.TrimSpace(line)) != journalFormat {
					return 0, 0, fmt.Errorf("%s: %w", path, errJournalFormat)
				}
				first = false
			} else if op, ok := decodeOp(line); ok {
				apply(op)
				applied++
			} else {
				skipped++
			}
		}
		if err != nil { // io.EOF, or a truncated last line: both end it
			return applied, skipped, nil
		}
	}
}

func skipLine(r *bufio.Reader) error {
	for {
		_, err := r.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func decodeOp(line []byte) (journalOp, bool) {
	var op journalOp
	if json.Unmarshal(line, &op) != nil || !op.Exporter.IsValid() {
		return op, false
	}
	op.Exporter = op.Exporter.Unmap()
	return op, true
}

// fieldList encodes template fields compactly: [type,length] or
// [type,length,enterprise].
type fieldList []netflow.Field

func (l fieldList) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(l)*12)
	b = append(b, '[')
	for i, f := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, uint64(f.Type), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(f.Length), 10)
		if f.PenProvided {
			b = append(b, ',')
			b = strconv.AppendUint(b, uint64(f.Pen), 10)
		}
		b = append(b, ']')
	}
	return append(b, ']'), nil
}

// UnmarshalJSON parses by hand: restoring a flood's worth of templates
// through reflection took most of the restore.
func (l *fieldList) UnmarshalJSON(b []byte) error {
	p := fieldParser{b: b}
	out := fieldList{}
	p.expect('[')
	for p.err == nil && !p.peek(']') {
		if len(out) > 0 {
			p.expect(',')
		}
		var v [3]uint64
		n := 0
		p.expect('[')
		for p.err == nil && !p.peek(']') && n < 3 {
			if n > 0 {
				p.expect(',')
			}
			v[n] = p.number()
			n++
		}
		p.expect(']')
		if p.err == nil && (n < 2 || v[0] > 0xffff || v[1] > 0xffff || v[2] > 0xffffffff) {
			p.err = fmt.Errorf("field %v", v[:n])
		}
		f := netflow.Field{Type: uint16(v[0]), Length: uint16(v[1])}
		if n == 3 {
			f.PenProvided, f.Pen = true, uint32(v[2])
		}
		out = append(out, f)
	}
	p.expect(']')
	if p.err != nil {
		return fmt.Errorf("template fields: %w", p.err)
	}
	*l = out
	return nil
}

// fieldParser reads the [[type,length],...] form of fieldList.
type fieldParser struct {
	b   []byte
	err error
}

func (p *fieldParser) skip() {
	for len(p.b) > 0 && (p.b[0] == ' ' || p.b[0] == '\n' || p.b[0] == '\t' || p.b[0] == '\r') {
		p.b = p.b[1:]
	}
}

func (p *fieldParser) peek(c byte) bool {
	p.skip()
	return len(p.b) > 0 && p.b[0] == c
}

func (p *fieldParser) expect(c byte) {
	if p.err != nil {
		return
	}
	if !p.peek(c) {
		p.err = fmt.Errorf("expected %q", c)
		return
	}
	p.b = p.b[1:]
}

func (p *fieldParser) number() uint64 {
	p.skip()
	i := 0
	for i < len(p.b) && i < 20 && p.b[i] >= '0' && p.b[i] <= '9' {
		i++
	}
	v, err := strconv.ParseUint(string(p.b[:i]), 10, 64)
	if err != nil && p.err == nil {
		p.err = err
	}
	p.b = p.b[i:]
	return v
}
