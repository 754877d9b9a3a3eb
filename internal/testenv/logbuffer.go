package testenv

import (
	"strings"
	"sync"
)

// LogBuffer is a log destination a test reads while the code under test
// (another goroutine, a child process's output) writes to it.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Count counts the occurrences of substr.
func (l *LogBuffer) Count(substr string) int { return strings.Count(l.String(), substr) }

// Matching returns the lines that contain substr.
func (l *LogBuffer) Matching(substr string) []string {
	var out []string
	for _, line := range strings.Split(l.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}
