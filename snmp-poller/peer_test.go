package snmppoller

import (
	"bytes"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// runPeer starts cmd, a real agent for one test, keeping its output; it
// stops it at cleanup (showing the output when the test failed) and
// waits until ready succeeds, failing if the agent exits first or is not
// ready within the given time.
func runPeer(t testing.TB, cmd *exec.Cmd, within time.Duration, ready func() error) error {
	name := cmd.Path
	var mu sync.Mutex
	var out bytes.Buffer
	w := lockedWriter{mu: &mu, b: &out}
	cmd.Stdout, cmd.Stderr = w, w
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, output())
		}
	})
	deadline := time.Now().Add(within)
	for {
		select {
		case <-exited:
			return fmt.Errorf("%s exited: %s", name, output())
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("%s not answering: %w", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
