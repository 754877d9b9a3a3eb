package api

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// The web console is served at / from the same origin as the API: its
// files when they exist, else its index.html, so that every view's URL
// (/explore?filter=…, /interfaces/sw1/3) opens the single-page app. The
// console holds no data: its files are public, and it calls the API with
// the bearer token the user gives it (an Authorization header, never a
// cookie, so that other sites cannot ride on it).

// consoleCSP lets the console load only from its own origin; ECharts and
// CodeMirror set inline styles.
const consoleCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// serveConsole answers a GET outside the API's routes, or false when the
// path is the API's (an unknown /api/ path stays a JSON 404).
func (c *Component) serveConsole(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if c.deps.Console == nil {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(consoleNotBuilt))
		return true
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if st, err := fs.Stat(c.deps.Console, name); name == "" || err != nil || st.IsDir() {
		name = "index.html"
	}
	if strings.HasPrefix(name, "assets/") {
		// Vite names assets by their content's hash.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, c.deps.Console, name)
	return true
}

// consoleNotBuilt is the page of a binary built without the console.
const consoleNotBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>netstrata: console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto">
<h1>The web console is not in this binary</h1>
<p>This netstrata was built without its console. Build it with the binary:</p>
<pre>make build</pre>
<p>or by hand: <code>cd console &amp;&amp; npm ci &amp;&amp; npm run build</code>, then <code>go build ./cmd/netstrata</code>.</p>
<p>The API is served all the same: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
`
