package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Sink is the running APM collector in its namespace.
type Sink struct {
	*Process
	result string
}

// StartSink runs `bin demo sink` in the collector's namespace and waits
// until it listens.
func StartSink(bin, dir string, topo *Topology) (*Sink, error) {
	result := filepath.Join(dir, "sink.jsonl")
	p, err := StartProcess("apm collector", topo.Collector.Exec(bin, "demo", "sink",
		"--listen", topo.CollectorAddr().String(), "--result", result), nil, nil)
	if err != nil {
		return nil, err
	}
	// The sink opens its result file once it listens.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(result); err == nil {
			return &Sink{Process: p, result: result}, nil
		}
		if ok, _ := p.Exited(); ok || time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("apm collector did not start: %s", p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Received lists what the collector received, one entry per finished
// connection.
func (s *Sink) Received() ([]SinkConn, error) {
	b, err := os.ReadFile(s.result)
	if err != nil {
		return nil, fmt.Errorf("sink result: %w", err)
	}
	var out []SinkConn
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var c SinkConn
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("sink result line %q: %w", sc.Text(), err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Sent is one sender's own count, with the pod it ran in.
type Sent struct {
	Pod  Namespace
	Comm string
	SenderResult
}

// SenderComm is the process name a pod's sender runs under: the name of
// the executable it was started as (at most 15 characters).
func SenderComm(pod string) string { return pod + "-sender" }

// RunSenders starts one sender per sending pod, all beginning at start
// with the same phases, and waits for them. Each runs `bin demo sender`
// through a symlink named after its pod, so the kernel (and the agent)
// sees it as process "pod-a-sender".
func RunSenders(ctx context.Context, bin, dir string, topo *Topology, phases []Phase, start time.Time) ([]Sent, error) {
	senders := topo.Senders()
	out := make([]Sent, len(senders))
	errs := make([]error, len(senders))
	var wg sync.WaitGroup
	for i, pod := range senders {
		comm := SenderComm(pod.Pod)
		link := filepath.Join(dir, comm)
		_ = os.Remove(link)
		if err := os.Symlink(bin, link); err != nil {
			return nil, fmt.Errorf("sender executable: %w", err)
		}
		result := filepath.Join(dir, pod.Pod+"-sent.json")
		p, err := StartProcess(comm, pod.Exec(link, "demo", "sender", "--to", topo.CollectorAddr().String(),
			"--start", strconv.FormatInt(start.UnixNano(), 10), "--phases", formatPhases(phases), "--result", result), nil, nil)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Wait(ctx); err != nil {
				p.Kill()
				errs[i] = fmt.Errorf("%s in %s: %w: %s", comm, pod.Netns, err, p.Output())
				return
			}
			b, err := os.ReadFile(result)
			if err == nil {
				err = json.Unmarshal(b, &out[i].SenderResult)
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s result: %w", comm, err)
			}
			out[i].Pod, out[i].Comm = pod, comm
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// TotalSent sums the payload the senders wrote.
func TotalSent(s []Sent) int64 {
	var n int64
	for _, x := range s {
		n += x.Bytes
	}
	return n
}
