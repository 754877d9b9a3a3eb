package snmppoller

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/netstrata/netstrata/internal/periodic"
)

// maxTargetsFile bounds what is read from the targets file (a 100k-device
// fleet is ~20 MB of YAML).
const maxTargetsFile = 64 << 20

// parseTargetsFile reads a YAML list of targets, or a mapping with a
// "targets" key holding one. Unknown keys are errors, as in the main file.
func parseTargetsFile(data []byte) ([]Target, error) {
	var probe yaml.Node
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, err
	}
	if len(probe.Content) == 0 {
		return nil, nil // empty file: no targets
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if probe.Content[0].Kind == yaml.SequenceNode {
		var list []Target
		if err := dec.Decode(&list); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return list, nil
	}
	var doc struct {
		Targets []Target `yaml:"targets"`
	}
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return doc.Targets, nil
}

// resolveAll applies the defaults to every target; field names errors
// with prefix.
func resolveAll(list []Target, d TargetDefaults, prefix string) ([]resolvedTarget, error) {
	out := make([]resolvedTarget, 0, len(list))
	seen := map[string]int{}
	for i, t := range list {
		r, err := t.resolve(d)
		if err != nil {
			return nil, fmt.Errorf("%s[%d].%w", prefix, i, err)
		}
		if j, dup := seen[r.Name]; dup {
			return nil, fmt.Errorf("%s[%d].name: %q is also [%d]%s", prefix, i, r.Name, j, sameNameHint(t))
		}
		seen[r.Name] = i
		out = append(out, r)
	}
	return out, nil
}

// loadTargetsFile reads and resolves the file; sum identifies its content.
func loadTargetsFile(path string, d TargetDefaults) ([]resolvedTarget, [32]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, [32]byte{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTargetsFile+1))
	if err != nil {
		return nil, [32]byte{}, err
	}
	sum := sha256.Sum256(data)
	if len(data) > maxTargetsFile {
		return nil, sum, fmt.Errorf("larger than %d bytes", maxTargetsFile)
	}
	list, err := parseTargetsFile(data)
	if err != nil {
		return nil, sum, err
	}
	resolved, err := resolveAll(list, d, "targets")
	return resolved, sum, err
}

// watchTargetsFile re-reads the file every check interval and applies it
// when its content changed. A file that fails to load keeps the previous
// targets and marks the component unhealthy until it is fixed.
func (c *Component) watchTargetsFile(ctx context.Context, last [32]byte) {
	periodic.Every(ctx, c.cfg.TargetsFileCheck, func() { last = c.reloadTargetsFile(last) })
}

// reloadTargetsFile loads the file if its content differs from last and
// returns the content hash now in force.
func (c *Component) reloadTargetsFile(last [32]byte) [32]byte {
	list, sum, err := loadTargetsFile(c.cfg.TargetsFile, c.cfg.Defaults)
	if sum == last && sum != ([32]byte{}) {
		return last
	}
	if err != nil {
		err = fmt.Errorf("snmp_poller.targets_file %s: %w", c.cfg.TargetsFile, err)
		c.r.SetHealth("targets_file", err)
		c.countBad("targets_file")
		return sum // do not retry the same broken content every tick
	}
	c.r.SetHealth("targets_file", nil)
	c.setFileTargets(list)
	c.r.Log.Info("targets file loaded", "path", c.cfg.TargetsFile, "targets", len(list))
	return sum
}
