package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
)

// paramSpec declares one query parameter of a route: the handler reads
// it, the request is checked against it and the OpenAPI document lists it.
type paramSpec struct {
	Name        string
	Type        string // OpenAPI type: string or integer
	Format      string // OpenAPI format, e.g. ip
	Description string
	Enum        []string
	Required    bool
	// Bounds of an integer (Minimum defaults to 0), and the regular
	// expression a string matches: the handler checks the value with
	// them (params.integer, params.matching) and the OpenAPI document
	// publishes them, so the two cannot disagree.
	Minimum, Maximum int64
	Pattern          string
}

// route is one GET endpoint.
type route struct {
	Path        string
	Summary     string
	Description string
	Tag         string
	Params      []paramSpec
	Response    any  // a value of the 200 response type, for the schema
	Public      bool // served without a bearer token
	ContentType string
	handle      func(ctx context.Context, p *params) (any, error)
	raw         http.Handler // non-JSON endpoints
}

// apiPrefix is where the versioned API lives.
const apiPrefix = apiv1.Prefix

// routeTable is every route the API serves.
func (c *Component) routeTable() []route {
	health := c.r.Handler() // /metrics and /healthz of the whole process
	return append([]route{
		{Path: apiPrefix + "/interfaces", Tag: "interfaces", Summary: "Interfaces with their latest rates",
			Description: "Devices and interfaces polled by SNMP with their latest in/out bps, pps, errors, discards, utilisation, names and status.",
			Params:      c.interfacesParams(), Response: InterfacesResponse{}, handle: c.handleInterfaces},
		{Path: apiPrefix + "/interfaces/series", Tag: "interfaces", Summary: "One interface's rates over time",
			Params: c.seriesParams(), Response: SeriesResponse{}, handle: c.handleSeries},
		{Path: apiPrefix + "/flows/topn", Tag: "flows", Summary: "Top values of a flow dimension, or pairs of values of two, by bytes",
			Description: "Sampling-corrected bytes, packets, flows, bps and share of the total per value of the dimension `by` (five_tuple: per session, ports unfolded: the whole hours of the range from the session rollup flows_5tuple_1h when every dimension and filter is one of its columns (its whole 6-hour blocks from flow_sessions_6h, or flows_5tuple_6h when an exporter or interface is read, once built and complete), the rest from the raw flows (source says which); the exporter's fields src_mac, dst_mac, src_vlan, dst_vlan, outer_vlan, mpls_top_label, ip_ttl, ipv6_flow_label, forwarding_status, ingress_vrf, egress_vrf, nat_src_ip, nat_dst_ip, nat_src_port, nat_dst_port, icmp_type, icmp_code, icmp, tunnel_type, tunnel_src_ip, tunnel_dst_ip and vxlan_vni, and their filters, also read the raw flows only, over its retention: MACs as aa:bb:cc:dd:ee:ff, a forwarding status as `dropped: acl deny`, ICMP as type/code of ICMP flows only, `(none)` where the exporter sent nothing), or per pair of values of two dimensions (`by=src_pod,dst_port`), with filters. `other` is the total less the page's rows, so that their shares add up to 1; `next_cursor` gives the next page of the same ranking over the same range. Time basis: a flow is in the range when the collector received it (time_received, the axis of the rollups too); an empty answer says in `outside` how many matching flows lie outside the range and how many of them carry exporter times inside it (a replayed capture, an exporter clock that is off). Byte basis: IP packets for every protocol (sFlow samples count their IP length unless flow_collector.sflow_byte_basis is frame; each raw flow says which in byte_basis).",
			Params:      c.topNParams(), Response: TopNResponse{}, handle: c.handleTopN},
		{Path: apiPrefix + "/sockets", Tag: "sockets", Summary: "Per-session TCP health from the agents",
			Params: c.socketsParams(), Response: SocketsResponse{}, handle: c.handleSockets},
		{Path: apiPrefix + "/traffic-map", Tag: "sockets", Summary: "Who sends to whom: pods, processes, services, external IPs",
			Params: c.trafficMapParams(), Response: TrafficMapResponse{}, handle: c.handleTrafficMap},
		{Path: apiPrefix + "/reconciliation", Tag: "flows", Summary: "Flow bytes × sampling rate against SNMP counters per interface",
			Description: "A ratio far from 1 flags a wrong or missing sampling rate, or exporter loss. Flows count on the side of the interface the exporter gives: in on their in_if and out on their out_if; flows captured on one port (same in and out ifIndex) by their direction field, or its reverse when that is what agrees with SNMP, and against SNMP in+out when they have none (status no_verdict when they then disagree). A suggested sampling rate is never below 1:1. An empty answer says in `outside` how many flows of the selected exporter interfaces lie outside the range (by time_received, as /flows/topn).",
			Params:      c.reconciliationParams(), Response: ReconciliationResponse{}, handle: c.handleReconciliation},
		{Path: apiPrefix + "/investigate", Tag: "investigate", Summary: "Why did traffic on this node, interface or IP spike?",
			Description: "Finds the spike window in the range and its baseline, the ports, sessions, senders, receivers, pods and processes that account for the increase, their traffic map and health, the interfaces on the path, pod status, and a verdict with evidence. Give node, device and if_index, or ip. Up to api.raw_range (3 hours by default) the spike is searched per second (or per range/3600) in the raw tables, each SNMP poll, agent interval and flow (over the exporter's start–end, shifted by the exporter's measured clock skew when it is past flow_collector.clock_skew_threshold, or at its receive time when the exporter's clock is not believable: time_basis) spread over the seconds it covers; its edges are placed where the blurred step was, so windows are exact to a poll or a flow's life; longer ranges use the minute rollups. A spike is at least 1.5× the level and 1 KiB a minute. Figures of a layer without data are null, not 0; a flows layer without rows in the range says in `outside` how many of the subject's flows lie outside it and how many carry exporter times inside it (time basis as in /flows/topn).",
			Params:      c.investigateParams(), Response: Investigation{}, handle: c.handleInvestigate},
		{Path: apiPrefix + "/alerts", Tag: "alerts", Summary: "Alerts the alerting component fired and resolved",
			Description: "The alert history (one row per transition: fired, resolved) in the range, or with state=firing the alerts firing now. A firing alert's annotations carry the investigation's verdict, its top contributors and session health; generator_url opens the console's investigate view.",
			Params:      c.alertsParams(), Response: apiv1.AlertsResponse{}, handle: c.handleAlerts},
		{Path: apiPrefix + "/openapi.json", Tag: "meta", Summary: "This OpenAPI 3 document", Public: true,
			ContentType: "application/json", raw: http.HandlerFunc(c.serveOpenAPI)},
		{Path: "/openapi.json", Tag: "meta", Summary: "This OpenAPI 3 document (alias)", Public: true,
			ContentType: "application/json", raw: http.HandlerFunc(c.serveOpenAPI)},
		{Path: "/healthz", Tag: "meta", Summary: "Health of the process, including the database connection", Public: true,
			Description: "Each check's name and state (ok or failing); the errors are in /api/v1/health.",
			ContentType: "application/json", raw: health},
		{Path: apiPrefix + "/health", Tag: "meta", Summary: "Health of the process with each failing check's error",
			ContentType: "application/json", raw: c.r.Health.Detailed()},
		{Path: "/metrics", Tag: "meta", Summary: "Prometheus metrics", ContentType: "text/plain", raw: health},
	}, c.consoleRoutes()...)
}

// routes builds the mux from the route table.
func (c *Component) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range c.routeTable() {
		var h http.Handler
		if rt.raw != nil {
			h = rt.raw
		} else {
			h = c.jsonHandler(rt)
		}
		if !rt.Public {
			h = c.authenticate(h)
		}
		pattern := "GET " + rt.Path
		mux.Handle(pattern, c.instrument(rt.Path, h))
		c.patterns = append(c.patterns, pattern)
	}
	known := map[string]bool{}
	for _, p := range c.patterns {
		known[strings.TrimPrefix(p, "GET ")] = true
	}
	mux.Handle("/", c.instrument("unknown", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if known[r.URL.Path] {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, ErrorResponse{Error: ErrorBody{Status: http.StatusMethodNotAllowed, Message: "only GET is served"}})
			return
		}
		if c.serveConsole(w, r) {
			return
		}
		writeJSON(w, http.StatusNotFound, ErrorResponse{Error: ErrorBody{Status: http.StatusNotFound, Message: "no such endpoint; see /api/v1/openapi.json"}})
	})))
	return securityHeaders(mux)
}

// jsonHandler checks the parameters, runs the handler under the query
// timeout and answers JSON.
func (c *Component) jsonHandler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			writeError(w, err)
			return
		}
		p, err := newParams(q, rt.Params, c.now().UTC())
		if err != nil {
			writeError(w, err)
			return
		}
		leave, admitted := c.admission.enter(r.Context())
		if !admitted {
			w.Header().Set("Retry-After", strconv.Itoa(max(int(c.cfg.QueueTimeout.Seconds()), 1)))
			writeJSON(w, http.StatusTooManyRequests, ErrorResponse{Error: ErrorBody{Status: http.StatusTooManyRequests,
				Message: fmt.Sprintf("%d queries are running and %d waiting: try again later", c.cfg.MaxConcurrentQueries, c.cfg.MaxQueuedQueries)}})
			return
		}
		defer leave()
		ctx, cancel := context.WithTimeout(r.Context(), c.cfg.QueryTimeout)
		defer cancel()
		body, err := rt.handle(ctx, p)
		if err != nil {
			if _, bad := err.(*paramError); !bad {
				he := classify(ctx, err)
				if he.Status >= 500 {
					c.warn.Warn(rt.Path+strconv.Itoa(he.Status), "request failed", "route", rt.Path, "status", he.Status, "error", he)
				}
				err = he
			}
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// authenticate requires one of the configured bearer tokens, compared in
// constant time.
func (c *Component) authenticate(next http.Handler) http.Handler {
	if c.cfg.AuthDisabled {
		return next
	}
	sums := make([][32]byte, len(c.cfg.Tokens))
	for i, t := range c.cfg.Tokens {
		sums[i] = sha256.Sum256([]byte(t))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok {
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			match := 0
			for i := range sums {
				match |= subtle.ConstantTimeCompare(sum[:], sums[i][:])
			}
			if match == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="netstrata"`)
		writeJSON(w, http.StatusUnauthorized, ErrorResponse{Error: ErrorBody{Status: http.StatusUnauthorized, Message: "missing or invalid bearer token (Authorization: Bearer <token>)"}})
	})
}

// instrument counts requests and their latency by route.
func (c *Component) instrument(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		c.metrics.requests.WithLabelValues(name, strconv.Itoa(sw.status)).Inc()
		c.metrics.duration.WithLabelValues(name).Observe(time.Since(began).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
