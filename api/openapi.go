package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
)

// The OpenAPI 3 document is built from the route table and the Go types
// of the responses, so that it cannot drift from what the server does.

type openAPIBuilder struct {
	schemas map[string]any
}

// openAPIDoc is the document rendered once per component.
type openAPIDoc struct {
	once sync.Once
	json []byte
}

func (c *Component) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	c.openapi.once.Do(func() {
		c.openapi.json, _ = json.MarshalIndent(c.openAPI(), "", "  ")
	})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(c.openapi.json)
}

// openAPI returns the document as a JSON-ready tree.
func (c *Component) openAPI() map[string]any {
	b := &openAPIBuilder{schemas: map[string]any{}}
	errRef := b.schemaRef(reflect.TypeOf(ErrorResponse{}))
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": errRef}}}
	}
	paths := map[string]any{}
	for _, rt := range c.routeTable() {
		op := map[string]any{
			"operationId": operationID(rt.Path),
			"summary":     rt.Summary,
			"tags":        []string{rt.Tag},
		}
		if rt.Description != "" {
			op["description"] = rt.Description
		}
		var ps []any
		for _, p := range rt.Params {
			schema := map[string]any{"type": p.Type}
			if p.Format != "" {
				schema["format"] = p.Format
			}
			if len(p.Enum) > 0 {
				schema["enum"] = p.Enum
			}
			if p.Type == "integer" {
				schema["minimum"] = p.Minimum
				if p.Maximum > 0 {
					schema["maximum"] = p.Maximum
				}
			}
			if p.Pattern != "" {
				schema["pattern"] = p.Pattern
			}
			ps = append(ps, map[string]any{
				"name": p.Name, "in": "query", "required": p.Required,
				"description": p.Description, "schema": schema,
			})
		}
		if len(ps) > 0 {
			op["parameters"] = ps
		}
		responses := map[string]any{}
		switch {
		case rt.Response != nil:
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{
				"application/json": map[string]any{"schema": b.schemaRef(reflect.TypeOf(rt.Response))}}}
			responses["400"] = errResp("A parameter is missing, unknown or malformed; the message names it.")
			responses["429"] = errResp("Too many queries are running and waiting (api.max_concurrent_queries, api.max_queued_queries); Retry-After says when to try again.")
			responses["503"] = errResp("The database is unavailable or its schema is not ready.")
			responses["504"] = errResp("The query exceeded the timeout.")
		case rt.ContentType == "text/plain":
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
		default:
			responses["200"] = map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		if rt.Path == "/healthz" {
			responses["503"] = map[string]any{"description": "A check is failing; the body names it.", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		if !rt.Public {
			responses["401"] = errResp("Missing or invalid bearer token.")
			if !c.cfg.AuthDisabled {
				op["security"] = []any{map[string]any{"bearer": []string{}}}
			}
		}
		op["responses"] = responses
		paths[rt.Path] = map[string]any{"get": op}
	}
	server := "http://" + c.cfg.Listen
	if c.tls != nil {
		server = "https://" + c.cfg.Listen
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "netstrata API",
			"version":     "1",
			"description": "Multi-layer network traffic analysis: SNMP interfaces, flows and eBPF sockets joined by IP:port and time. Times are RFC 3339 or relative to now (-1h, -30m, -2d, now). Byte counts are sampling-corrected.",
		},
		"servers": []any{map[string]any{"url": server}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": b.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
	}
}

// operationID turns /api/v1/flows/topn into flowsTopn and /healthz
// (outside the versioned API) into rootHealthz.
func operationID(path string) string {
	path, versioned := strings.CutPrefix(path, apiPrefix)
	var b strings.Builder
	upper := !versioned
	if !versioned {
		b.WriteString("root")
	}
	for _, r := range strings.TrimPrefix(path, "/") {
		switch {
		case r == '/' || r == '-' || r == '.' || r == '_':
			upper = true
		case upper:
			b.WriteString(strings.ToUpper(string(r)))
			upper = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

// schemaRef registers a struct type under components/schemas and returns
// its $ref; other types are inlined.
func (b *openAPIBuilder) schemaRef(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.Struct:
		name := t.Name()
		if _, done := b.schemas[name]; !done {
			b.schemas[name] = nil // placeholder against recursion
			props := map[string]any{}
			var required []string
			var allOf []any
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				if f.Anonymous {
					allOf = append(allOf, b.schemaRef(f.Type))
					continue
				}
				tag := f.Tag.Get("json")
				jname, opts, _ := strings.Cut(tag, ",")
				if jname == "-" {
					continue
				}
				if jname == "" {
					jname = f.Name
				}
				s := b.schemaRef(f.Type)
				if f.Type.Kind() == reflect.Pointer {
					s = map[string]any{"allOf": []any{s}, "nullable": true}
				}
				if d := f.Tag.Get("doc"); d != "" {
					s["description"] = d // a field whose meaning the name cannot carry
				}
				props[jname] = s
				if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
					required = append(required, jname)
				}
			}
			own := map[string]any{"type": "object", "properties": props}
			if len(required) > 0 {
				own["required"] = required
			}
			if len(allOf) > 0 {
				b.schemas[name] = map[string]any{"allOf": append(allOf, own)}
			} else {
				b.schemas[name] = own
			}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": b.schemaRef(t.Elem())}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.schemaRef(t.Elem())}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return map[string]any{"type": "number"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	}
	return map[string]any{}
}
