package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// StartNetstrata runs `bin <args...> --config config` as a child process;
// its log goes to tee (nil: kept for failures only).
func StartNetstrata(name, bin, config string, tee io.Writer, args ...string) (*Process, error) {
	argv := append([]string{bin}, args...)
	argv = append(argv, "--config", config)
	return StartProcess(name, argv, nil, tee)
}

// WaitLog waits until the process printed want, exited, or ctx ended.
func WaitLog(ctx context.Context, p *Process, want string) error {
	for {
		if strings.Contains(p.Output(), want) {
			return nil
		}
		if ok, err := p.Exited(); ok {
			return fmt.Errorf("%s exited (%v) before %q:\n%s", p.Name, err, want, tail(p.Output(), 4000))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %q: %w\n%s", p.Name, want, ctx.Err(), tail(p.Output(), 4000))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Healthy reports whether http://addr/healthz answers 200.
func Healthy(ctx context.Context, addr string) bool { return healthz(ctx, addr) == http.StatusOK }

// Serving reports whether http://addr/healthz answers at all: a component
// that could not start has no listener, while a running one may answer
// 503 for a check of another component of its process (the API waiting
// for the correlator's database, say).
func Serving(ctx context.Context, addr string) bool { return healthz(ctx, addr) != 0 }

// healthz is the status of http://addr/healthz, 0 when nothing answers.
func healthz(ctx context.Context, addr string) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// WaitHealthy waits until addr's /healthz answers 200.
func WaitHealthy(ctx context.Context, addr string) error {
	for !Healthy(ctx, addr) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("http://%s/healthz not healthy: %w", addr, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
