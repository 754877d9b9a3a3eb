package api

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/netstrata/netstrata/internal/store"
)

// consoleAPI is an API without a database serving the given console.
func consoleAPI(t *testing.T, cfg Configuration, assets fs.FS) string {
	t.Helper()
	st := store.DefaultConfiguration()
	st.Addresses = []string{"127.0.0.1:1"}
	st.DialTimeout = 100e6
	c, err := New(testReporter(), cfg, Dependencies{Store: st, Console: assets})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return "http://" + c.Addr()
}

func fetch(t *testing.T, url string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

var testConsole = fstest.MapFS{
	"index.html":       {Data: []byte("<!doctype html><title>console</title>")},
	"assets/app-1a.js": {Data: []byte("console.log(1)")},
}

func TestConsoleIsServedAtRootWithEveryViewOpeningTheApp(t *testing.T) {
	base := consoleAPI(t, testConfig(), testConsole)
	for _, path := range []string{"/", "/explore?filter=SrcPod%20%3D%20%22a%22", "/interfaces/sw1/3", "/status/", "/../../etc/passwd"} {
		st, h, body := fetch(t, base+path)
		if st != 200 || !strings.Contains(body, "<title>console</title>") {
			t.Errorf("%s: %d %q", path, st, body)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	st, h, body := fetch(t, base+"/assets/app-1a.js")
	if st != 200 || body != "console.log(1)" || !strings.Contains(h.Get("Cache-Control"), "immutable") || !strings.Contains(h.Get("Content-Type"), "javascript") {
		t.Errorf("asset: %d %v %q", st, h, body)
	}
}

func TestConsoleLeavesTheAPIsRoutesAndErrorsAlone(t *testing.T) {
	base := consoleAPI(t, testConfig(), testConsole)
	st, h, body := fetch(t, base+"/api/v1/nope")
	if st != 404 || !strings.Contains(h.Get("Content-Type"), "application/json") || !strings.Contains(body, "no such endpoint") {
		t.Errorf("unknown API path: %d %q", st, body)
	}
	if st, _, body := fetch(t, base+"/api/v1/openapi.json"); st != 200 || !strings.Contains(body, `"openapi"`) {
		t.Errorf("openapi: %d", st)
	}
	req, _ := http.NewRequest("POST", base+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST /: %d", resp.StatusCode)
	}
}

// The console's files are public (they hold no data); the API behind it
// still wants the token.
func TestConsoleIsPublicButTheDataStillNeedsTheToken(t *testing.T) {
	cfg := testConfig()
	cfg.AuthDisabled, cfg.Tokens = false, []string{testToken}
	base := consoleAPI(t, cfg, testConsole)
	if st, _, _ := fetch(t, base+"/explore"); st != 200 {
		t.Errorf("console without a token: %d", st)
	}
	if st, _, _ := fetch(t, base+"/api/v1/interfaces"); st != 401 {
		t.Errorf("data without a token: %d", st)
	}
	if st, _, _ := fetch(t, base+"/api/v1/interfaces", "Origin", "https://evil.example"); st != 401 {
		t.Errorf("data from another origin without a token: %d", st)
	}
}

func TestBinaryWithoutConsoleSaysHowToBuildIt(t *testing.T) {
	base := consoleAPI(t, testConfig(), nil)
	st, _, body := fetch(t, base+"/investigate")
	if st != 200 || !strings.Contains(body, "npm ci &amp;&amp; npm run build") || !strings.Contains(body, "make build") {
		t.Errorf("%d %q", st, body)
	}
}

func mustJSON(t *testing.T, body string, out any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
}
