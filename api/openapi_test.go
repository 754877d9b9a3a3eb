package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/store"
)

// offlineAPI is an API whose database never answers: enough for
// routing, auth and parameter checks.
func offlineAPI(t *testing.T, cfg Configuration) *Component {
	st := store.DefaultConfiguration()
	st.Addresses = []string{"127.0.0.1:1"}
	st.DialTimeout = 100e6
	return startTestAPI(t, cfg, st)
}

func TestOpenAPIDocumentResolvesAndListsEveryServedRoute(t *testing.T) {
	c := offlineAPI(t, testConfig())
	base := "http://" + c.Addr()
	var doc map[string]any
	for _, path := range []string{"/api/v1/openapi.json", "/openapi.json"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		doc = nil
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi version %v", doc["openapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info %v", info)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)

	// Every $ref resolves.
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				name, found := strings.CutPrefix(ref, "#/components/schemas/")
				if !found || schemas[name] == nil {
					t.Errorf("%s: $ref %q does not resolve", where, ref)
				}
			}
			for k, vv := range x {
				walk(vv, where+"/"+k)
			}
		case []any:
			for _, vv := range x {
				walk(vv, where)
			}
		}
	}
	walk(doc, "#")

	// The documented paths are exactly the served patterns.
	paths := doc["paths"].(map[string]any)
	var documented, served []string
	operationIDs := map[string]bool{}
	for p, item := range paths {
		documented = append(documented, "GET "+p)
		op := item.(map[string]any)["get"].(map[string]any)
		id := op["operationId"].(string)
		if operationIDs[id] {
			t.Errorf("duplicate operationId %s", id)
		}
		operationIDs[id] = true
		responses := op["responses"].(map[string]any)
		if responses["200"] == nil {
			t.Errorf("%s: no 200 response", p)
		}
		for _, prm := range asSlice(op["parameters"]) {
			pm := prm.(map[string]any)
			if pm["in"] != "query" || pm["name"] == "" || pm["schema"] == nil || pm["description"] == "" {
				t.Errorf("%s: parameter %v incomplete", p, pm)
			}
		}
	}
	served = append(served, c.patterns...)
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Errorf("documented:\n%s\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}

	// Each documented path is served (not 404), each documented parameter
	// is accepted by name, and an undocumented path is a 404.
	for p, item := range paths {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 404 {
			t.Errorf("%s is documented but 404", p)
		}
		op := item.(map[string]any)["get"].(map[string]any)
		for _, prm := range asSlice(op["parameters"]) {
			name := prm.(map[string]any)["name"].(string)
			var e ErrorResponse
			resp, err := http.Get(base + p + "?" + url.Values{name: {"x"}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			_ = json.NewDecoder(resp.Body).Decode(&e)
			resp.Body.Close()
			if strings.Contains(e.Error.Message, "unknown parameter") {
				t.Errorf("%s: documented parameter %s refused as unknown", p, name)
			}
		}
	}
	resp, err := http.Get(base + "/api/v1/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("undocumented path: %d", resp.StatusCode)
	}
	resp, err = http.Post(base+"/api/v1/interfaces", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST to a GET route: %d", resp.StatusCode)
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// openAPIProperties reads the served document's schemas: the
// description of each property by schema.
func openAPIProperties(t *testing.T) map[string]map[string]string {
	t.Helper()
	c := offlineAPI(t, testConfig())
	resp, err := http.Get("http://" + c.Addr() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Description string `json:"description"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for name, s := range doc.Components.Schemas {
		out[name] = map[string]string{}
		for p, v := range s.Properties {
			out[name][p] = v.Description
		}
	}
	return out
}

func TestOpenAPIDocumentSaysWhenRTTAverageIsAMedian(t *testing.T) {
	props := openAPIProperties(t)
	for _, schema := range []string{"Session", "MapEdge", "HealthStats"} {
		d := props[schema]["rtt_avg_us"]
		if !strings.Contains(d, "median") {
			t.Errorf("%s.rtt_avg_us description %q does not say it is (or uses) the median", schema, d)
		}
	}
}
