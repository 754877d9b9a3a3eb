package alerting

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

// Configuration is the `alerting` section of the YAML file.
type Configuration struct {
	// Interval is how often every rule is evaluated.
	Interval time.Duration `yaml:"interval"`
	// QueryTimeout bounds one rule's query.
	QueryTimeout time.Duration `yaml:"query_timeout"`
	// DefaultRules keeps the shipped rules (DefaultRules()) ahead of
	// Rules; a rule of Rules with the same name replaces the shipped one.
	DefaultRules bool `yaml:"default_rules"`
	// Rules are the operator's rules.
	Rules []Rule `yaml:"rules"`
	// MaxSeriesPerRule bounds what one rule may return per evaluation;
	// the rest is dropped and counted, so that a rule matching every
	// socket cannot exhaust memory.
	MaxSeriesPerRule int `yaml:"max_series_per_rule"`
	// Election keeps one replica active: "kafka" (a consumer group on a
	// one-partition topic: whoever holds the partition evaluates and
	// notifies) or "none" (this process is always active: one replica only).
	Election string `yaml:"election"`
	// Group is the consumer group of the election.
	Group string `yaml:"group"`
	// API is the netstrata API that explains a firing alert (its
	// investigate endpoint); empty URL: alerts carry no verdict.
	API APIConfiguration `yaml:"api"`
	// MaxVerdicts bounds the investigations asked for in one evaluation:
	// when more alerts fire at once, the rest fire without a verdict
	// (traffic spikes unconfirmed) rather than hold the evaluation up.
	MaxVerdicts int `yaml:"max_verdicts"`
	// ConsoleURL is where the console is served: the alerts' generatorURL
	// and investigate link point at it.
	ConsoleURL string `yaml:"console_url"`
	// Alertmanagers receive alerts on their v2 API (every one of them, as
	// Prometheus does: they gossip and deduplicate among themselves).
	Alertmanagers []string `yaml:"alertmanagers"`
	// Webhooks receive one JSON message per transition (firing, resolved),
	// with a Slack-compatible `text`.
	Webhooks []string `yaml:"webhooks"`
	// Delivery bounds each receiver's queue and retries.
	Delivery DeliveryConfiguration `yaml:"delivery"`
	// Exporter serves interface rates and service health as Prometheus
	// series (off by default).
	Exporter ExporterConfiguration `yaml:"exporter"`
}

// APIConfiguration points at the netstrata API.
type APIConfiguration struct {
	URL     string        `yaml:"url"`
	Token   string        `yaml:"token"`
	Timeout time.Duration `yaml:"timeout"`
}

// DeliveryConfiguration bounds what waits for a receiver.
type DeliveryConfiguration struct {
	// QueueSize is the most notifications a receiver's queue holds; the
	// oldest is dropped (and counted) beyond it.
	QueueSize int `yaml:"queue_size"`
	// Timeout bounds one HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// RetryFor is how long a notification is retried before it is
	// dropped and counted (netstrata_alerting_notifications_dropped_total).
	RetryFor time.Duration `yaml:"retry_for"`
	// ResendInterval re-sends firing alerts to Alertmanager, which
	// forgets an alert whose endsAt passes.
	ResendInterval time.Duration `yaml:"resend_interval"`
}

// DefaultConfiguration evaluates the shipped rules every 30 s and sends
// nowhere until receivers are configured.
func DefaultConfiguration() Configuration {
	return Configuration{
		Interval:         30 * time.Second,
		QueryTimeout:     20 * time.Second,
		DefaultRules:     true,
		MaxSeriesPerRule: 20_000,
		Election:         "kafka",
		Group:            "netstrata-alerting",
		API:              APIConfiguration{URL: "http://127.0.0.1:8080", Timeout: 20 * time.Second},
		MaxVerdicts:      20,
		ConsoleURL:       "http://127.0.0.1:8080",
		Delivery: DeliveryConfiguration{
			QueueSize:      10_000,
			Timeout:        10 * time.Second,
			MinBackoff:     time.Second,
			MaxBackoff:     time.Minute,
			RetryFor:       time.Hour,
			ResendInterval: time.Minute,
		},
		Exporter: ExporterConfiguration{MaxSeries: 2000},
	}
}

// Validate names the bad field.
func (c Configuration) Validate() error {
	errs := []error{
		config.Check(c.Interval >= time.Second, "alerting.interval", "%v is shorter than 1s", c.Interval),
		config.Check(c.QueryTimeout > 0, "alerting.query_timeout", "must be positive"),
		config.Check(c.MaxSeriesPerRule > 0, "alerting.max_series_per_rule", "must be positive"),
		config.Check(c.Election == "kafka" || c.Election == "none", "alerting.election", "%q is not kafka or none", c.Election),
		config.Check(c.Election != "kafka" || c.Group != "", "alerting.group", "empty with election kafka"),
		config.Check(c.API.URL == "" || c.API.Timeout > 0, "alerting.api.timeout", "must be positive"),
		config.Check(c.MaxVerdicts >= 0, "alerting.max_verdicts", "must not be negative"),
		config.Check(c.Delivery.QueueSize > 0, "alerting.delivery.queue_size", "must be positive"),
		config.Check(c.Delivery.Timeout > 0, "alerting.delivery.timeout", "must be positive"),
		config.Check(c.Delivery.MinBackoff > 0 && c.Delivery.MaxBackoff >= c.Delivery.MinBackoff,
			"alerting.delivery.min_backoff", "must be positive and at most max_backoff"),
		config.Check(c.Delivery.RetryFor > 0, "alerting.delivery.retry_for", "must be positive"),
		config.Check(c.Delivery.ResendInterval > 0, "alerting.delivery.resend_interval", "must be positive"),
		config.Check(c.Exporter.MaxSeries > 0 && c.Exporter.MaxSeries <= 100_000, "alerting.exporter.max_series", "must be 1 to 100000"),
		checkURL("alerting.api.url", c.API.URL, true),
		checkURL("alerting.console_url", c.ConsoleURL, true),
	}
	for i, u := range c.Alertmanagers {
		errs = append(errs, checkURL(fmt.Sprintf("alerting.alertmanagers[%d]", i), u, false))
	}
	for i, u := range c.Webhooks {
		errs = append(errs, checkURL(fmt.Sprintf("alerting.webhooks[%d]", i), u, false))
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		field := fmt.Sprintf("alerting.rules[%d]", i)
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q appears twice", field, r.Name))
		}
		seen[r.Name] = true
		errs = append(errs, r.validate(field))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL, or "" when empty is allowed.
func checkURL(field, s string, emptyOK bool) error {
	if s == "" {
		return config.Check(emptyOK, field, "empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return config.Check((u.Scheme == "http" || u.Scheme == "https") && u.Host != "", field, "%q is not an http(s) URL", s)
}

// EffectiveRules are the rules evaluated: the shipped ones (when
// DefaultRules) overridden by name by the operator's, then the operator's
// others; disabled rules are left out.
func (c Configuration) EffectiveRules() []Rule {
	var out []Rule
	own := map[string]Rule{}
	for _, r := range c.Rules {
		own[r.Name] = r
	}
	if c.DefaultRules {
		for _, r := range DefaultRules() {
			if o, ok := own[r.Name]; ok {
				r = o
				delete(own, r.Name)
			}
			out = append(out, r)
		}
	}
	for _, r := range c.Rules {
		if _, ok := own[r.Name]; ok {
			out = append(out, r)
		}
	}
	kept := out[:0]
	for _, r := range out {
		if !r.Disabled {
			kept = append(kept, r.withDefaults())
		}
	}
	return kept
}

// Redacted is the configuration with its secrets masked, for printing:
// the API token, and the path, query and user of every receiver URL (a
// webhook's path often is its secret).
func (c Configuration) Redacted() Configuration {
	if c.API.Token != "" {
		c.API.Token = "********"
	}
	mask := func(urls []string) []string {
		out := make([]string, len(urls))
		for i, s := range urls {
			out[i] = redactURL(s)
			if u, err := url.Parse(s); err == nil && (u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil) {
				out[i] += "/********"
			}
		}
		return out
	}
	c.Alertmanagers, c.Webhooks = mask(c.Alertmanagers), mask(c.Webhooks)
	return c
}
