package main

import (
	"github.com/netstrata/netstrata/api"
	"github.com/netstrata/netstrata/console"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func init() {
	commands["api"] = command{
		help: `Serves the JSON API on api.listen (default 127.0.0.1:8080): /api/v1/investigate,
/flows/topn, /interfaces, /interfaces/series, /sockets, /traffic-map,
/reconciliation, /api/v1/openapi.json, plus /healthz and /metrics, and the
web console at / (built into the binary by make build). Bearer
tokens from api.tokens (NETSTRATA_API_TOKENS=t1,t2); api.auth_disabled: true
is accepted only for a loopback listen address.`,
		components: func(cfg *Config) []component {
			return []component{{name: "api",
				build: func(e *env, r *telemetry.Reporter) (service, error) {
					// Built after the embedded ClickHouse started, so the
					// store address is the real one.
					assets, _ := console.Assets()
					return api.New(r, cfg.API, api.Dependencies{Store: cfg.apiStore(), LayersOff: e.offLayers, Console: assets})
				}}}
		},
	}
}
