package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/api/apiv1"
)

func TestClientSendsTheTokenAndDecodesTheInvestigation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != apiv1.Prefix+"/investigate" || r.Header.Get("Authorization") != "Bearer t1" || r.URL.Query().Get("node") != "worker-1" {
			http.Error(w, `{"error":{"status":400,"message":"unexpected request"}}`, http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"subject":{"label":"node worker-1"},"verdict":{"kind":"no data","summary":"no data"}}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "t1"}
	inv, err := c.Investigate(context.Background(), url.Values{"node": {"worker-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Subject.Label != "node worker-1" || inv.Verdict.Summary != "no data" {
		t.Errorf("decoded %+v", inv)
	}
}

func TestClientErrorCarriesTheAPIMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"status":400,"message":"node: \"x y\" is not a name","parameter":"node"}}`))
	}))
	defer srv.Close()
	var out apiv1.TopNResponse
	err := (&Client{BaseURL: srv.URL}).Get(context.Background(), apiv1.Prefix+"/flows/topn", nil, &out)
	if err == nil || !strings.Contains(err.Error(), `400: node: "x y" is not a name`) {
		t.Errorf("error %v", err)
	}
}
