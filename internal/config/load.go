// Package config loads netstrata's one YAML file: every component has its
// own section, unknown keys are errors, and any scalar can be overridden
// by an environment variable NETSTRATA_<SECTION>_<KEY> (upper case, dashes
// and dots as underscores), e.g. NETSTRATA_KAFKA_BROKERS=a:9092,b:9092.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every override variable.
const EnvPrefix = "NETSTRATA_"

// Validator is implemented by configurations that check themselves.
type Validator interface{ Validate() error }

// Load fills cfg (a pointer to a struct already holding the defaults) from
// the YAML file at path ("" for none), then from the environment, then
// validates it.
func Load(path string, cfg any, environ []string) error {
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		if err := Decode(data, cfg); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := ApplyEnv(cfg, environ); err != nil {
		return err
	}
	if v, ok := cfg.(Validator); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	return nil
}

// Decode strictly decodes YAML into cfg: unknown keys are rejected.
func Decode(data []byte, cfg any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ApplyEnv sets scalar fields from NETSTRATA_* variables. A variable that
// names no field is an error: a typo must not pass silently.
func ApplyEnv(cfg any, environ []string) error {
	fields := map[string]reflect.Value{}
	collect(reflect.ValueOf(cfg).Elem(), strings.TrimSuffix(EnvPrefix, "_"), fields)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || ignoredEnv[name] {
			continue
		}
		f, found := fields[name]
		if !found {
			return fmt.Errorf("environment %s: no such setting", name)
		}
		if err := setScalar(f, value); err != nil {
			return fmt.Errorf("environment %s: %w", name, err)
		}
	}
	return nil
}

// ignoredEnv are NETSTRATA_ variables that are not settings.
var ignoredEnv = map[string]bool{
	"NETSTRATA_CONFIG": true, "NETSTRATA_CACHE": true, "NETSTRATA_DATA": true,
	"NETSTRATA_CHDB_LIB": true, "NETSTRATA_REQUIRE_CHDB": true, "NETSTRATA_REQUIRE_BPF": true,
	"NETSTRATA_REQUIRE_PEERS": true, "NETSTRATA_BIN": true,
}

// EnvName is the variable that overrides the field at this YAML path.
func EnvName(path ...string) string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return EnvPrefix + strings.ToUpper(r.Replace(strings.Join(path, "_")))
}

var durationType = reflect.TypeOf(time.Duration(0))

func collect(v reflect.Value, prefix string, out map[string]reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tag := strings.Split(sf.Tag.Get("yaml"), ",")
		name := tag[0]
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		fv := v.Field(i)
		full := prefix + "_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
		inline := len(tag) > 1 && tag[1] == "inline"
		if inline {
			full = prefix
		}
		switch {
		case fv.Kind() == reflect.Struct:
			collect(fv, full, out)
		case isScalar(fv.Type()):
			out[full] = fv
		}
	}
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

func setScalar(f reflect.Value, s string) error {
	if f.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 10s or 5m", s)
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", s)
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, f.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		f.SetFloat(n)
	case reflect.Slice:
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	}
	return nil
}

// Keys lists every YAML key path of cfg's type (dotted), for
// documentation and for tests that check manifests use real keys.
func Keys(cfg any) []string {
	var out []string
	keys(reflect.TypeOf(cfg), "", &out)
	return out
}

func keys(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == durationType {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() && !sf.Anonymous {
			continue
		}
		tag := strings.Split(sf.Tag.Get("yaml"), ",")
		if tag[0] == "-" {
			continue
		}
		name := tag[0]
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		full := name
		if prefix != "" {
			full = prefix + "." + name
		}
		if len(tag) > 1 && tag[1] == "inline" {
			full = prefix
		} else {
			*out = append(*out, full)
		}
		keys(sf.Type, full, out)
	}
}
