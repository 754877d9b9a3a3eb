package telemetry

import (
	"encoding/json"
	"maps"
	"net/http"
	"sort"
	"sync"
)

// Health is the set of named checks behind /healthz.
type Health struct {
	mu     sync.Mutex
	checks map[string]string // name -> "" when healthy, else the error
	notes  map[string]string // name -> what a healthy check wants said (e.g. a layer that is off, and why)
}

// NewHealth returns an empty, healthy set.
func NewHealth() *Health { return &Health{checks: map[string]string{}, notes: map[string]string{}} }

// Note records a healthy check that carries a detail for the operator.
func (h *Health) Note(name, detail string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = ""
	h.notes[name] = detail
}

// Notes returns the details of the checks that have one.
func (h *Health) Notes() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.notes)
}

// Set records a check's state and reports whether it changed.
func (h *Health) Set(name string, err error) bool {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old, seen := h.checks[name]
	h.checks[name] = msg
	return !seen && err != nil || seen && (old == "") != (msg == "")
}

// Status returns whether every check is healthy and each check's state.
func (h *Health) Status() (bool, map[string]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ok := true
	out := make(map[string]string, len(h.checks))
	for k, v := range h.checks {
		if v == "" {
			out[k] = "ok"
		} else {
			out[k] = v
			ok = false
		}
	}
	return ok, out
}

// ServeHTTP answers 200 when healthy and 503 otherwise, with each check's
// name and state ("ok" or "failing") and its note: what an unauthenticated
// probe may see. Error texts name internal addresses and users; they are
// in the log and in Detailed.
func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) { h.write(w, false) }

// Detailed serves the same document with each failing check's error, for
// authenticated callers (the API's /api/v1/health).
func (h *Health) Detailed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { h.write(w, true) })
}

func (h *Health) write(w http.ResponseWriter, detailed bool) {
	ok, checks := h.Status()
	notes := h.Notes()
	names := make([]string, 0, len(checks))
	for k := range checks {
		names = append(names, k)
	}
	sort.Strings(names)
	type check struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
		Detail string `json:"detail,omitempty"`
	}
	body := struct {
		Status string  `json:"status"`
		Checks []check `json:"checks"`
	}{Status: "ok"}
	for _, n := range names {
		c := check{Name: n, Status: "ok", Detail: notes[n]}
		if checks[n] != "ok" {
			c.Status = "failing"
			if detailed {
				c.Error = checks[n]
			}
		}
		body.Checks = append(body.Checks, c)
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		body.Status = "unhealthy"
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}
