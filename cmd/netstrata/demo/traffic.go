package demo

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Phase is a steady send rate held for a duration.
type Phase struct {
	Rate     int64 // payload bytes per second
	Duration time.Duration
}

func formatPhases(ps []Phase) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%d:%s", p.Rate, p.Duration)
	}
	return strings.Join(parts, ",")
}

func parsePhases(s string) ([]Phase, error) {
	var out []Phase
	for _, part := range strings.Split(s, ",") {
		rate, dur, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("phase %q is not RATE:DURATION", part)
		}
		r, err := strconv.ParseInt(rate, 10, 64)
		if err != nil || r < 0 {
			return nil, fmt.Errorf("phase %q: bad rate", part)
		}
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("phase %q: bad duration", part)
		}
		out = append(out, Phase{Rate: r, Duration: d})
	}
	return out, nil
}

// SenderResult is what a sender counted itself.
type SenderResult struct {
	Local      string  `json:"local"` // its address:port
	Bytes      int64   `json:"bytes"` // payload written, all phases
	PhaseBytes []int64 `json:"phase_bytes"`
	Start      int64   `json:"start_unix_ns"`
	End        int64   `json:"end_unix_ns"`
}

// runSender is `netstrata demo sender`: one TCP connection to --to that
// sends the phases' rates from --start, then closes its side and waits
// for the peer to close, so that every byte was received and acknowledged
// when it reports. It runs in a pod namespace under the pod's process name.
func runSender(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo sender", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "collector address:port")
	start := fs.Int64("start", 0, "Unix time (ns) to start sending")
	phases := fs.String("phases", "", "RATE:DURATION,... (payload bytes/s)")
	result := fs.String("result", "", "file to write the result JSON to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ps, err := parsePhases(*phases)
	if err != nil {
		return err
	}
	conn, err := net.DialTimeout("tcp", *to, 10*time.Second)
	if err != nil {
		return fmt.Errorf("connect %s: %w", *to, err)
	}
	defer conn.Close()
	tc := conn.(*net.TCPConn)
	if wait := time.Until(time.Unix(0, *start)); wait > 0 {
		time.Sleep(wait)
	}
	res := SenderResult{Local: conn.LocalAddr().String(), Start: time.Now().UnixNano()}
	buf := make([]byte, 16<<10)
	for i := range buf {
		buf[i] = byte(i)
	}
	for _, p := range ps {
		begin := time.Now()
		var sent int64
		for {
			elapsed := time.Since(begin)
			if elapsed >= p.Duration {
				break
			}
			due := int64(float64(p.Rate) * elapsed.Seconds())
			for sent < due {
				n := min(int64(len(buf)), due-sent)
				w, err := tc.Write(buf[:n])
				sent += int64(w)
				if err != nil {
					return fmt.Errorf("send: %w", err)
				}
			}
			// Writes every 20 ms: segments of a few KiB, as an
			// application batching its reports would send.
			time.Sleep(20 * time.Millisecond)
		}
		res.PhaseBytes = append(res.PhaseBytes, sent)
		res.Bytes += sent
	}
	if err := tc.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	// The collector closes once it has read everything.
	_ = tc.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, tc); err != nil {
		return fmt.Errorf("wait for the collector to close: %w", err)
	}
	res.End = time.Now().UnixNano()
	return writeJSON(*result, res)
}

// SinkConn is what the collector received on one connection.
type SinkConn struct {
	Remote string `json:"remote"`
	Bytes  int64  `json:"bytes"`
}

// runSink is `netstrata demo sink`: the APM collector. It reads every
// connection to its end, closes it, and appends what it received to
// --result (one JSON line per connection) until SIGTERM.
func runSink(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo sink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "address:port")
	result := fs.String("result", "", "file to append one JSON line per connection to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	f, err := os.OpenFile(*result, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sink result: %w", err)
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); ln.Close() }()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				break
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			n, _ := io.Copy(io.Discard, c)
			b, _ := json.Marshal(SinkConn{Remote: c.RemoteAddr().String(), Bytes: n})
			mu.Lock()
			f.Write(append(b, '\n'))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if path == "" {
		_, err = os.Stdout.Write(append(b, '\n'))
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
