package api

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestAdmissionRunsSomeQueuesAFewAndRefusesTheRest(t *testing.T) {
	a := newAdmission(2, 1, time.Hour)
	ctx := context.Background()
	var leaves []func()
	for range 2 {
		leave, ok := a.enter(ctx)
		if !ok {
			t.Fatal("a free slot was refused")
		}
		leaves = append(leaves, leave)
	}
	queued := make(chan bool)
	go func() {
		leave, ok := a.enter(ctx)
		if ok {
			leave()
		}
		queued <- ok
	}()
	for len(a.waiting) == 0 { // the third request is waiting
		time.Sleep(time.Millisecond)
	}
	if _, ok := a.enter(ctx); ok {
		t.Fatal("a fourth request was admitted past a full queue")
	}
	leaves[0]()
	if !<-queued {
		t.Fatal("the queued request did not get the freed slot")
	}
	leaves[1]()
	short, cancel := context.WithCancel(ctx)
	cancel()
	b := newAdmission(1, 1, time.Hour)
	leave, _ := b.enter(ctx)
	if _, ok := b.enter(short); ok {
		t.Fatal("a request whose client left was admitted")
	}
	leave()
}

func TestBusyAPIAnswers429WithRetryAfter(t *testing.T) {
	cfg := testConfig()
	cfg.MaxConcurrentQueries, cfg.MaxQueuedQueries, cfg.QueueTimeout = 1, 0, 2*time.Second
	c := offlineAPI(t, cfg)
	leave, ok := c.admission.enter(context.Background()) // a long query holds the only slot
	if !ok {
		t.Fatal("the test could not take the slot")
	}
	defer leave()
	resp, err := http.Get("http://" + c.Addr() + "/api/v1/flows/topn?by=dst_port")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("busy API: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestAnUnreadableParameterIs400NamingIt(t *testing.T) {
	for raw, want := range map[string]string{
		"by=dst_port&proto=6;x": "proto",
		"by=dst_port&a%zz=1":    "a%zz",
	} {
		_, err := parseQuery(raw)
		pe, ok := err.(*paramError)
		if !ok || pe.Param != want {
			t.Errorf("%q: %v, want a 400 naming %q", raw, err, want)
		}
	}
	if q, err := parseQuery("by=dst_port&proto=6"); err != nil || q.Get("proto") != "6" {
		t.Errorf("a good query: %v %v", q, err)
	}
}
