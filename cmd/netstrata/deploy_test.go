package main

// The Kubernetes manifests under deploy/kubernetes decode strictly into the
// real API types and agree with this binary: its commands, its
// configuration schema, its environment variables and its ports.

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/netstrata/netstrata/internal/config"
	snmppoller "github.com/netstrata/netstrata/snmp-poller"
)

// kubernetesDir holds the kustomize base and overlays.
const kubernetesDir = "../../deploy/kubernetes"

// configMapName is the generated ConfigMap holding netstrata.yaml.
const configMapName = "netstrata-config"

// image is the placeholder every container uses; overlays retag it.
const image = "netstrata:latest"

// pendingSections may be absent from Config while their components are
// being wired into the binary; their checks are skipped with a log then.
var pendingSections = []string{"correlator", "api"}

// manifest is one YAML document decoded into its API type.
type manifest struct {
	where string // file and document index
	kind  string
	name  string
	obj   any
	raw   []byte // the document as JSON, for patches
}

// kinds maps each kind the manifests may use to its API version and type.
var kinds = map[string]struct {
	apiVersion string
	new        func() any
}{
	"Namespace":           {"v1", func() any { return &corev1.Namespace{} }},
	"ServiceAccount":      {"v1", func() any { return &corev1.ServiceAccount{} }},
	"Service":             {"v1", func() any { return &corev1.Service{} }},
	"ConfigMap":           {"v1", func() any { return &corev1.ConfigMap{} }},
	"Secret":              {"v1", func() any { return &corev1.Secret{} }},
	"Deployment":          {"apps/v1", func() any { return &appsv1.Deployment{} }},
	"DaemonSet":           {"apps/v1", func() any { return &appsv1.DaemonSet{} }},
	"ClusterRole":         {"rbac.authorization.k8s.io/v1", func() any { return &rbacv1.ClusterRole{} }},
	"ClusterRoleBinding":  {"rbac.authorization.k8s.io/v1", func() any { return &rbacv1.ClusterRoleBinding{} }},
	"Role":                {"rbac.authorization.k8s.io/v1", func() any { return &rbacv1.Role{} }},
	"RoleBinding":         {"rbac.authorization.k8s.io/v1", func() any { return &rbacv1.RoleBinding{} }},
	"PodDisruptionBudget": {"policy/v1", func() any { return &policyv1.PodDisruptionBudget{} }},
	"NetworkPolicy":       {"networking.k8s.io/v1", func() any { return &networkingv1.NetworkPolicy{} }},
	"Ingress":             {"networking.k8s.io/v1", func() any { return &networkingv1.Ingress{} }},
}

// kustomization holds the kustomize fields our files use; any other field
// fails the strict decode, so that a typo does not pass silently.
type kustomization struct {
	APIVersion         string               `json:"apiVersion"`
	Kind               string               `json:"kind"`
	Namespace          string               `json:"namespace,omitempty"`
	Resources          []string             `json:"resources,omitempty"`
	ConfigMapGenerator []configMapGenerator `json:"configMapGenerator,omitempty"`
	Images             []kustomizeImage     `json:"images,omitempty"`
	Replicas           []kustomizeReplicas  `json:"replicas,omitempty"`
	Patches            []kustomizePatch     `json:"patches,omitempty"`
}

// kustomizePatch is a strategic merge patch file; its documents name
// their targets (kind, name).
type kustomizePatch struct {
	Path string `json:"path"`
}

type configMapGenerator struct {
	Name     string   `json:"name"`
	Behavior string   `json:"behavior,omitempty"`
	Files    []string `json:"files"`
}

type kustomizeImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

type kustomizeReplicas struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// deployTree is everything under kubernetesDir.
type deployTree struct {
	manifests      []manifest
	kustomizations map[string]kustomization // by directory
	configFiles    []string                 // every netstrata.yaml a generator ships
	targetsFiles   []string                 // every snmp-targets.yaml a generator ships
	byFile         map[string][]manifest    // resources, by file
	patches        map[string][]manifest    // patch documents, by file
}

// strictJSON decodes JSON into v, rejecting unknown fields.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decodeManifests decodes every document of a multi-document YAML stream
// into its Kubernetes type, strictly.
func decodeManifests(name string, data []byte) ([]manifest, error) {
	var out []manifest
	for i, doc := range documentSeparator.Split(string(data), -1) {
		where := fmt.Sprintf("%s#%d", name, i)
		js, err := sigsyaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if t := strings.TrimSpace(string(js)); t == "null" || t == "" {
			continue // only comments
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		k, ok := kinds[tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s: kind %q is not one the test knows", where, tm.Kind)
		}
		if tm.APIVersion != k.apiVersion {
			return nil, fmt.Errorf("%s: %s has apiVersion %q, want %q", where, tm.Kind, tm.APIVersion, k.apiVersion)
		}
		obj := k.new()
		if err := strictJSON(js, obj); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where, tm.Kind, err)
		}
		name := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta).Name
		if name == "" {
			return nil, fmt.Errorf("%s: %s without metadata.name", where, tm.Kind)
		}
		out = append(out, manifest{where: where, kind: tm.Kind, name: name, obj: obj, raw: js})
	}
	return out, nil
}

// generatorFile is the file a configMapGenerator entry reads ("key=path"
// names the key explicitly).
func generatorFile(entry string) (key, path string) {
	if k, p, ok := strings.Cut(entry, "="); ok {
		return k, p
	}
	return filepath.Base(entry), entry
}

// loadDeployTree reads every kustomization and every manifest, and checks
// that each file is referenced and each reference exists.
func loadDeployTree(t *testing.T) deployTree {
	t.Helper()
	tree := deployTree{
		kustomizations: map[string]kustomization{},
		byFile:         map[string][]manifest{},
		patches:        map[string][]manifest{},
	}
	referenced := map[string]bool{}
	isPatch := map[string]bool{}
	err := filepath.WalkDir(kubernetesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "kustomization.yaml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		js, err := sigsyaml.YAMLToJSON(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var k kustomization
		if err := strictJSON(js, &k); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
			return fmt.Errorf("%s: apiVersion/kind %s/%s", path, k.APIVersion, k.Kind)
		}
		dir := filepath.Dir(path)
		tree.kustomizations[dir] = k
		referenced[path] = true
		for _, r := range k.Resources {
			p := filepath.Join(dir, r)
			st, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("%s: resource %s: %w", path, r, err)
			}
			if st.IsDir() {
				if _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); err != nil {
					return fmt.Errorf("%s: resource %s is a directory without kustomization.yaml", path, r)
				}
				continue
			}
			referenced[p] = true
		}
		for _, pt := range k.Patches {
			p := filepath.Join(dir, pt.Path)
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("%s: patch %s: %w", path, pt.Path, err)
			}
			referenced[p] = true
			isPatch[p] = true
		}
		for _, g := range k.ConfigMapGenerator {
			for _, f := range g.Files {
				key, rel := generatorFile(f)
				p := filepath.Join(dir, rel)
				if _, err := os.Stat(p); err != nil {
					return fmt.Errorf("%s: configMapGenerator %s file %s: %w", path, g.Name, f, err)
				}
				referenced[p] = true
				if g.Name == configMapName && key == "netstrata.yaml" {
					tree.configFiles = append(tree.configFiles, p)
				}
				if g.Name == configMapName && key == "snmp-targets.yaml" {
					tree.targetsFiles = append(tree.targetsFiles, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tree.kustomizations[filepath.Join(kubernetesDir, "base")]; !ok {
		t.Fatalf("no %s/base/kustomization.yaml", kubernetesDir)
	}
	err = filepath.WalkDir(kubernetesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		if !referenced[path] {
			return fmt.Errorf("%s is not listed by any kustomization (resources or configMapGenerator)", path)
		}
		if d.Name() == "kustomization.yaml" || slices.Contains(tree.configFiles, path) || slices.Contains(tree.targetsFiles, path) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		ms, err := decodeManifests(path, data)
		if err != nil {
			return err
		}
		if isPatch[path] {
			tree.patches[path] = ms
			return nil
		}
		tree.byFile[path] = ms
		tree.manifests = append(tree.manifests, ms...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.configFiles) == 0 {
		t.Fatalf("no kustomization generates %s from a netstrata.yaml", configMapName)
	}
	return tree
}

// workload is a pod template with where it comes from.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        *corev1.PodTemplateSpec
}

func (tr deployTree) workloads() []workload { return workloadsOf(tr.manifests) }

// workloadsOf returns the Deployments and DaemonSets among ms.
func workloadsOf(ms []manifest) []workload {
	var out []workload
	for _, m := range ms {
		switch o := m.obj.(type) {
		case *appsv1.Deployment:
			out = append(out, workload{m.kind, m.name, o.Spec.Selector, &o.Spec.Template})
		case *appsv1.DaemonSet:
			out = append(out, workload{m.kind, m.name, o.Spec.Selector, &o.Spec.Template})
		}
	}
	return out
}

func (tr deployTree) find(kind, name string) any {
	for _, m := range tr.manifests {
		if m.kind == kind && m.name == name {
			return m.obj
		}
	}
	return nil
}

// wiredSections are the top-level keys Config has now.
func wiredSections() map[string]bool {
	out := map[string]bool{}
	for _, k := range config.Keys(Config{}) {
		if !strings.Contains(k, ".") {
			out[k] = true
		}
	}
	return out
}

// pendingAndAbsent reports whether section is still being wired in.
func pendingAndAbsent(section string) bool {
	return slices.Contains(pendingSections, section) && !wiredSections()[section]
}

// configForSchema returns a config file path that Config can load now:
// sections pending wiring are removed (logged) until Config has them.
func configForSchema(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	root := doc.Content[0]
	removed := false
	for i := 0; i < len(root.Content); i += 2 {
		if key := root.Content[i].Value; pendingAndAbsent(key) {
			t.Logf("%s: section %q skipped: Config has no such section yet (its component is being wired in)", path, key)
			root.Content = slices.Delete(root.Content, i, i+2)
			i -= 2
			removed = true
		}
	}
	if !removed {
		return path
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "netstrata.yaml")
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return tmp
}

// rawSection returns a section of a config file as a map, for sections
// that Config may not have yet.
func rawSection(t *testing.T, path, section string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, _ := doc[section].(map[string]any)
	return s
}

// sectionListen is a component's /metrics + /healthz address in cfg: its
// `http` key, or `listen` for the api, which serves both on its own port.
func sectionListen(cfg *Config, section string) (string, bool) {
	v, ok := fieldByYAMLTag(reflect.ValueOf(cfg).Elem(), section)
	if !ok {
		return "", false
	}
	for _, key := range []string{"http", "listen"} {
		if f, ok := fieldByYAMLTag(v, key); ok && f.Kind() == reflect.String {
			return f.String(), true
		}
	}
	return "", false
}

// fieldByYAMLTag finds the field with this yaml name, looking into inline
// structs.
func fieldByYAMLTag(v reflect.Value, name string) (reflect.Value, bool) {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")
		if tag[0] == name {
			return v.Field(i), true
		}
		if len(tag) > 1 && tag[1] == "inline" {
			if f, ok := fieldByYAMLTag(v.Field(i), name); ok {
				return f, true
			}
		}
	}
	return reflect.Value{}, false
}

// dummyValues stand in for values that come from Secrets: one of them
// fits every kind of setting (long enough for an API token).
var dummyValues = []string{"dummy-secret-value-0123456789", "true", "1", "1s"}

// settingValue checks that the variable names a real setting and returns
// a value it accepts: value itself when given, else a dummy of its kind.
func settingValue(name, value string) (string, error) {
	candidates := dummyValues
	if value != "" {
		candidates = []string{value}
	}
	var last error
	for _, v := range candidates {
		last = config.ApplyEnv(DefaultConfig(), []string{name + "=" + v})
		if last == nil {
			return v, nil
		}
		if strings.Contains(last.Error(), "no such setting") {
			return "", last
		}
	}
	return "", last
}

// configArg returns the value of --config in args.
func configArg(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
		if a == "--config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// configMountPath is where the container sees the netstrata-config
// ConfigMap, or "".
func configMountPath(pod *corev1.PodSpec, c corev1.Container) string {
	for _, v := range pod.Volumes {
		if v.ConfigMap == nil || v.ConfigMap.Name != configMapName || len(v.ConfigMap.Items) > 0 {
			continue
		}
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name && m.SubPath == "" {
				return m.MountPath
			}
		}
	}
	return ""
}

// containerPort resolves a probe's or a Service's port (name or number)
// against the container's ports.
func containerPort(c corev1.Container, p intstr.IntOrString, proto corev1.Protocol) (int32, bool) {
	for _, cp := range c.Ports {
		cpProto := cp.Protocol
		if cpProto == "" {
			cpProto = corev1.ProtocolTCP
		}
		if cpProto != proto {
			continue
		}
		if p.Type == intstr.String && cp.Name == p.StrVal || p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func listenPort(t *testing.T, field, addr string) (host string, port int32) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: %q: %v", field, addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s: %q: %v", field, addr, err)
	}
	return h, int32(n)
}

func TestManifestDecodingRejectsUnknownFields(t *testing.T) {
	cases := map[string]string{
		"container field": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          imagePullPolicyy: Always\n",
		"top-level field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspecs: {}\n",
		"wrong version":   "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: x}\n",
		"unknown kind":    "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
	}
	for name, doc := range cases {
		if _, err := decodeManifests(name, []byte(doc)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	ms, err := decodeManifests("ok", []byte("# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"))
	if err != nil || len(ms) != 1 {
		t.Fatalf("valid stream: %v, %d documents", err, len(ms))
	}
	var k kustomization
	if err := strictJSON([]byte(`{"apiVersion":"kustomize.config.k8s.io/v1beta1","kind":"Kustomization","resourcez":["a.yaml"]}`), &k); err == nil {
		t.Error("kustomization with an unknown field decoded")
	}
}

func TestEnvSettingCheckRejectsUnknownVariables(t *testing.T) {
	if _, err := settingValue("NETSTRATA_KAFKA_BROKER", ""); err == nil {
		t.Error("NETSTRATA_KAFKA_BROKER accepted")
	}
	if v, err := settingValue("NETSTRATA_KAFKA_SASL_PASSWORD", ""); err != nil || v == "" {
		t.Errorf("NETSTRATA_KAFKA_SASL_PASSWORD: %q, %v", v, err)
	}
	if _, err := settingValue("NETSTRATA_KAFKA_PARTITIONS", "many"); err == nil {
		t.Error("a non-integer partition count accepted")
	}
}

func TestKubernetesManifestsDecodeStrictlyAndAreComplete(t *testing.T) {
	tree := loadDeployTree(t)
	for _, k := range tree.kustomizations {
		for _, img := range k.Images {
			if img.Name != "netstrata" {
				t.Errorf("kustomize images: %q is not the placeholder image name netstrata", img.Name)
			}
		}
		for _, r := range k.Replicas {
			if r.Name == "snmp-poller" && r.Count != 1 {
				t.Errorf("kustomize replicas: snmp-poller must stay 1 (two would poll every device twice), got %d", r.Count)
			}
		}
	}
	wls := tree.workloads()
	names := map[string]bool{}
	for _, w := range wls {
		names[w.name] = true
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(w.pod.Labels)) {
			t.Errorf("%s %s: selector %v does not match its pod labels %v (%v)", w.kind, w.name, w.selector, w.pod.Labels, err)
		}
	}
	for _, want := range []string{"npm-agent", "flow-collector", "snmp-poller", "correlator", "api", "alerting"} {
		if !names[want] {
			t.Errorf("no workload %s", want)
		}
	}
	if ns, ok := tree.find("Namespace", "netstrata").(*corev1.Namespace); !ok || ns == nil {
		t.Error("no Namespace netstrata")
	}
	if d, ok := tree.find("Deployment", "snmp-poller").(*appsv1.Deployment); ok && (d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType) {
		t.Error("snmp-poller: want exactly 1 replica and the Recreate strategy, so that devices are never polled twice")
	}
	if d, ok := tree.find("Deployment", "correlator").(*appsv1.Deployment); ok && (d.Spec.Replicas == nil || *d.Spec.Replicas < 2) {
		t.Error("correlator: want 2 or more replicas (consumer-group members)")
	}

	for _, w := range wls {
		for _, c := range w.pod.Spec.Containers {
			t.Run(w.name+"/"+c.Name, func(t *testing.T) {
				checkContainer(t, tree, w, c)
			})
		}
	}
}

// checkContainer checks one container against the binary and the config.
func checkContainer(t *testing.T, tree deployTree, w workload, c corev1.Container) {
	if c.Image != image {
		t.Errorf("image %q, want the placeholder %q (retagged with kustomize images:)", c.Image, image)
	}
	if len(c.Command) > 0 {
		t.Errorf("command %v overrides the image's entrypoint; use args", c.Command)
	}
	if len(c.Args) == 0 {
		t.Fatal("no args: the first must be a netstrata command")
	}
	cmd := c.Args[0]
	section := strings.ReplaceAll(cmd, "-", "_")
	if _, ok := commands[cmd]; !ok {
		if pendingAndAbsent(section) {
			t.Logf("command %q is not wired into the binary yet: its command and config checks are skipped", cmd)
		} else {
			t.Errorf("args[0] %q is not a netstrata command", cmd)
		}
	}

	// --config is the netstrata.yaml of the mounted ConfigMap.
	mount := configMountPath(&w.pod.Spec, c)
	if mount == "" {
		t.Errorf("ConfigMap %s is not mounted (whole, without items or subPath)", configMapName)
	}
	if got, want := configArg(c.Args), mount+"/netstrata.yaml"; got != want {
		t.Errorf("--config %q, want %q (the ConfigMap mount)", got, want)
	}
	if sp := strings.TrimSuffix(mount, "/") + "/snmp-targets.yaml"; cmd == "snmp-poller" {
		for _, f := range tree.configFiles {
			if got := rawSection(t, f, "snmp_poller")["targets_file"]; got != sp {
				t.Errorf("%s: snmp_poller.targets_file %v, want %s (the ConfigMap mount)", f, got, sp)
			}
		}
	}

	// Every NETSTRATA_* variable is a real setting; secrets come from
	// Secrets, never as literal values.
	var environ []string
	for _, e := range c.Env {
		if !strings.HasPrefix(e.Name, config.EnvPrefix) {
			continue
		}
		sec := ""
		for _, s := range pendingSections {
			if strings.HasPrefix(e.Name, config.EnvName(s)+"_") {
				sec = s
			}
		}
		if sec != "" && pendingAndAbsent(sec) {
			t.Logf("%s skipped: Config has no %s section yet", e.Name, sec)
			continue
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("%s: only Secrets may supply NETSTRATA_* values", e.Name)
		}
		if secretLike(e.Name) && e.ValueFrom == nil {
			t.Errorf("%s: a secret as a literal value; take it from a Secret", e.Name)
		}
		v, err := settingValue(e.Name, e.Value)
		if err != nil {
			t.Errorf("env %s: %v", e.Name, err)
			continue
		}
		environ = append(environ, e.Name+"="+v)
	}

	// The configuration this container runs with loads strictly and
	// validates, and its listeners agree with the pod.
	if pendingAndAbsent(section) {
		for _, f := range tree.configFiles {
			addr, _ := rawSection(t, f, section)["http"].(string)
			if addr == "" {
				addr, _ = rawSection(t, f, section)["listen"].(string)
			}
			checkHTTPPort(t, w, c, f, section, addr)
		}
		return
	}
	for _, f := range tree.configFiles {
		cfg := DefaultConfig()
		cfg.runs = componentsRun(cmd, "") // as main does: only this command's sections must validate
		if err := cfg.Load(configForSchema(t, f), environ); err != nil {
			t.Errorf("%s with this container's environment: %v", f, err)
			continue
		}
		if cfg.Embedded.Kafka.Enable || cfg.Embedded.ClickHouse.Enable {
			t.Errorf("%s: embedded Kafka and ClickHouse must be off in a cluster", f)
		}
		addr, ok := sectionListen(cfg, section)
		if !ok {
			t.Errorf("%s: no %s.http (or listen) in Config", f, section)
			continue
		}
		checkHTTPPort(t, w, c, f, section, addr)
		if cmd == "flow-collector" {
			checkFlowListeners(t, tree, c, f, cfg)
		}
		if cmd == "snmp-poller" {
			checkSNMPTargets(t, tree, cfg)
		}
	}
}

// secretLike names variables whose values must come from Secrets.
func secretLike(name string) bool {
	for _, s := range []string{"PASSWORD", "TOKEN", "COMMUNITY", "SECRET"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// checkHTTPPort checks the component's /metrics + /healthz listener, the
// probes, the Prometheus annotations, the resources and the security.
func checkHTTPPort(t *testing.T, w workload, c corev1.Container, file, section, addr string) {
	t.Helper()
	host, port := listenPort(t, file+": "+section+".http", addr)
	if host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("%s: %s listens on %q: probes and Prometheus cannot reach a pod's loopback", file, section, addr)
	}
	if _, ok := containerPort(c, intstr.FromInt32(port), corev1.ProtocolTCP); !ok {
		t.Errorf("no TCP containerPort %d (%s.http in %s)", port, section, file)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: want httpGet /healthz", name)
			continue
		}
		got, ok := containerPort(c, p.HTTPGet.Port, corev1.ProtocolTCP)
		if p.HTTPGet.Path != "/healthz" || !ok || got != port {
			t.Errorf("%s probe: %s on port %v (%d), want /healthz on %d", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), got, port)
		}
	}
	a := w.pod.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != strconv.Itoa(int(port)) || a["prometheus.io/path"] != "/metrics" {
		t.Errorf("Prometheus annotations %v, want scrape true, port %d, path /metrics", a, port)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, hasReq := c.Resources.Requests[r]
		lim, hasLim := c.Resources.Limits[r]
		if !hasReq || !hasLim || req.Sign() <= 0 || req.Cmp(lim) > 0 {
			t.Errorf("resources %s: request %v, limit %v; want both, request ≤ limit", r, req.String(), lim.String())
		}
	}
}

// checkFlowListeners: the collector listens on the ports its container
// declares as UDP and its Service exposes.
func checkFlowListeners(t *testing.T, tree deployTree, c corev1.Container, file string, cfg *Config) {
	t.Helper()
	want := []int32{2055, 4739, 6343}
	var listening []int32
	for _, a := range append(slices.Clone(cfg.FlowCollector.NetFlowListen), cfg.FlowCollector.SFlowListen...) {
		host, p := listenPort(t, file+": flow_collector listen", a)
		if host != "" && host != "0.0.0.0" && host != "::" {
			t.Errorf("%s: flow_collector listens on %q; exporters reach a pod only on 0.0.0.0", file, a)
		}
		listening = append(listening, p)
	}
	slices.Sort(listening)
	if !slices.Equal(listening, want) {
		t.Errorf("%s: flow_collector listens on %v, want %v", file, listening, want)
	}
	for _, p := range want {
		if _, ok := containerPort(c, intstr.FromInt32(p), corev1.ProtocolUDP); !ok {
			t.Errorf("container does not declare UDP %d", p)
		}
	}
	svc, _ := tree.find("Service", "flow-collector").(*corev1.Service)
	if svc == nil {
		t.Fatal("no Service flow-collector")
	}
	for _, p := range want {
		found := false
		for _, sp := range svc.Spec.Ports {
			if sp.Protocol != corev1.ProtocolUDP || sp.Port != p {
				continue
			}
			target := sp.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(sp.Port)
			}
			if got, ok := containerPort(c, target, corev1.ProtocolUDP); ok && got == p {
				found = true
			}
		}
		if !found {
			t.Errorf("Service flow-collector does not expose UDP %d to the container's UDP %d", p, p)
		}
	}
	// Exporters are told apart by source address: keep it.
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeNodePort ||
		svc.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		t.Errorf("Service flow-collector: type %s, externalTrafficPolicy %s; want LoadBalancer or NodePort with Local (keeps exporter addresses)",
			svc.Spec.Type, svc.Spec.ExternalTrafficPolicy)
	}
}

// checkSNMPTargets: the shipped targets file decodes strictly and its
// targets validate with the configured defaults.
func checkSNMPTargets(t *testing.T, tree deployTree, cfg *Config) {
	t.Helper()
	for _, f := range tree.targetsFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Targets []snmppoller.Target `yaml:"targets"`
		}
		if err := config.Decode(data, &doc); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		withTargets := cfg.SNMPPoller.Configuration
		withTargets.Targets = doc.Targets
		if err := withTargets.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestAgentDaemonSetHasWhatEBPFNeeds(t *testing.T) {
	tree := loadDeployTree(t)
	ds, _ := tree.find("DaemonSet", "npm-agent").(*appsv1.DaemonSet)
	if ds == nil {
		t.Fatal("no DaemonSet npm-agent")
	}
	pod := ds.Spec.Template.Spec
	if !pod.HostPID {
		t.Error("hostPID is not true: socket owners are host pids")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
		t.Fatal("no capabilities")
	}
	for _, want := range []corev1.Capability{"BPF", "PERFMON", "SYS_ADMIN"} {
		if !slices.Contains(c.SecurityContext.Capabilities.Add, want) {
			t.Errorf("capability %s not added", want)
		}
	}
	hostPaths := map[string]string{}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	for _, want := range []string{"/sys/fs/cgroup"} {
		mounted := false
		for _, m := range c.VolumeMounts {
			if m.MountPath == want && hostPaths[m.Name] == want {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("host %s is not mounted at %s", want, want)
		}
	}
	nodeName := false
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			nodeName = true
		}
	}
	if !nodeName {
		t.Error("NODE_NAME does not come from spec.nodeName")
	}
	// The pod watcher lists this node's pods with the agent's account.
	sa := pod.ServiceAccountName
	if tree.find("ServiceAccount", sa) == nil {
		t.Errorf("ServiceAccount %q is not in the manifests", sa)
	}
	granted := false
	for _, m := range tree.manifests {
		b, ok := m.obj.(*rbacv1.ClusterRoleBinding)
		if !ok || !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
			continue
		}
		role, _ := tree.find("ClusterRole", b.RoleRef.Name).(*rbacv1.ClusterRole)
		for _, r := range role.Rules {
			if slices.Contains(r.Resources, "pods") && slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
				granted = true
			}
		}
	}
	if !granted {
		t.Errorf("ServiceAccount %q may not list and watch pods", sa)
	}
}

func TestServicesAndBudgetsSelectTheirPods(t *testing.T) {
	tree := loadDeployTree(t)
	wls := tree.workloads()
	matching := func(sel labels.Selector) []workload {
		var out []workload
		for _, w := range wls {
			if sel.Matches(labels.Set(w.pod.Labels)) {
				out = append(out, w)
			}
		}
		return out
	}
	for _, m := range tree.manifests {
		switch o := m.obj.(type) {
		case *corev1.Service:
			ws := matching(labels.SelectorFromSet(o.Spec.Selector))
			if len(o.Spec.Selector) == 0 || len(ws) != 1 {
				t.Errorf("Service %s selects %d workloads, want 1", m.name, len(ws))
				continue
			}
			for _, sp := range o.Spec.Ports {
				proto := sp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				if !slices.ContainsFunc(ws[0].pod.Spec.Containers, func(c corev1.Container) bool {
					_, ok := containerPort(c, sp.TargetPort, proto)
					return ok
				}) {
					t.Errorf("Service %s port %s: target %s/%s is not a port of %s", m.name, sp.Name, sp.TargetPort.String(), proto, ws[0].name)
				}
			}
		case *policyv1.PodDisruptionBudget:
			sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector)
			if err != nil || len(matching(sel)) != 1 {
				t.Errorf("PodDisruptionBudget %s does not select exactly one workload (%v)", m.name, err)
			}
		}
	}
	if tree.find("Service", "api") == nil {
		t.Error("no Service api")
	}
	if tree.find("PodDisruptionBudget", "correlator") == nil {
		t.Error("no PodDisruptionBudget correlator")
	}
}

// TestKustomizeRendersValidManifests renders every kustomization with
// kubectl when it is installed (it is not a test peer: CI may lack it)
// and decodes the output strictly: what `kubectl apply -k` would send.
func TestKustomizeRendersValidManifests(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: rendering with kustomize not checked")
	}
	tree := loadDeployTree(t)
	for dir := range tree.kustomizations {
		out, err := exec.Command(kubectl, "kustomize", dir).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%w: %s", err, ee.Stderr)
			}
			t.Errorf("kubectl kustomize %s: %v", dir, err)
			continue
		}
		ms, err := decodeManifests(dir, out)
		if err != nil {
			t.Errorf("rendered %s: %v", dir, err)
			continue
		}
		// The same security properties hold on kustomize's output as on
		// the test's own rendering.
		ours, err := tree.render(dir)
		if err != nil {
			t.Fatal(err)
		}
		r := rendered{dir: dir + " (kubectl kustomize)", manifests: ms, config: ours.config}
		checkLeastPrivilege(t, r)
		checkNetworkPolicies(t, r)
		checkExposure(t, r, filepath.Base(dir) != "base")
		maps := map[string]bool{}
		for _, m := range ms {
			if m.kind == "ConfigMap" {
				maps[m.name] = true
			}
		}
		for _, m := range ms {
			var pod *corev1.PodSpec
			switch o := m.obj.(type) {
			case *appsv1.Deployment:
				pod = &o.Spec.Template.Spec
			case *appsv1.DaemonSet:
				pod = &o.Spec.Template.Spec
			default:
				continue
			}
			for _, v := range pod.Volumes {
				if v.ConfigMap != nil && !maps[v.ConfigMap.Name] {
					t.Errorf("rendered %s: %s %s mounts ConfigMap %s, which is not rendered", dir, m.kind, m.name, v.ConfigMap.Name)
				}
			}
		}
	}
}

// rendered is what one kustomization applies, as this test computes it:
// its resources, those of the kustomizations it includes, its patches.
type rendered struct {
	dir       string
	manifests []manifest
	config    string // the netstrata.yaml its ConfigMap carries
}

// render resolves a kustomization without kubectl. Patches are applied
// as JSON merge patches, which is what kustomize's strategic merge does
// for the lists they may set (patchableLists): it replaces them whole.
func (tr deployTree) render(dir string) (rendered, error) {
	k, ok := tr.kustomizations[dir]
	if !ok {
		return rendered{}, fmt.Errorf("%s: no kustomization", dir)
	}
	r := rendered{dir: dir}
	for _, res := range k.Resources {
		p := filepath.Join(dir, res)
		if _, isDir := tr.kustomizations[p]; isDir {
			sub, err := tr.render(p)
			if err != nil {
				return rendered{}, fmt.Errorf("%s: %w", dir, err)
			}
			r.manifests = append(r.manifests, sub.manifests...)
			r.config = sub.config
			continue
		}
		r.manifests = append(r.manifests, tr.byFile[p]...)
	}
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			if key, rel := generatorFile(f); g.Name == configMapName && key == "netstrata.yaml" {
				r.config = filepath.Join(dir, rel)
			}
		}
	}
	for _, pt := range k.Patches {
		for _, p := range tr.patches[filepath.Join(dir, pt.Path)] {
			if err := applyPatch(r.manifests, p); err != nil {
				return rendered{}, fmt.Errorf("%s: %w", dir, err)
			}
		}
	}
	return r, nil
}

// renderAll renders every kustomization of the tree.
func renderAll(t *testing.T, tree deployTree) []rendered {
	t.Helper()
	var out []rendered
	for dir := range tree.kustomizations {
		r, err := tree.render(dir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b rendered) int { return strings.Compare(a.dir, b.dir) })
	return out
}

// patchableLists are the lists a patch may set: strategic merge replaces
// them whole, as a JSON merge patch does. Lists with a merge key
// (containers, ports, env, ...) would be merged by kustomize instead.
var patchableLists = []string{"spec.ingress", "spec.egress", "spec.loadBalancerSourceRanges", "spec.policyTypes"}

// applyPatch replaces the manifest the patch names with the patched one.
func applyPatch(ms []manifest, p manifest) error {
	i := slices.IndexFunc(ms, func(m manifest) bool { return m.kind == p.kind && m.name == p.name })
	if i < 0 {
		return fmt.Errorf("%s: patch of %s %s, which is not among the resources", p.where, p.kind, p.name)
	}
	var patch map[string]any
	if err := json.Unmarshal(p.raw, &patch); err != nil {
		return fmt.Errorf("%s: %w", p.where, err)
	}
	if err := checkPatchLists(patch, ""); err != nil {
		return fmt.Errorf("%s: %w", p.where, err)
	}
	var target map[string]any
	if err := json.Unmarshal(ms[i].raw, &target); err != nil {
		return fmt.Errorf("%s: %w", ms[i].where, err)
	}
	js, err := json.Marshal(mergePatch(target, patch))
	if err != nil {
		return fmt.Errorf("%s: %w", p.where, err)
	}
	obj := kinds[p.kind].new()
	if err := strictJSON(js, obj); err != nil {
		return fmt.Errorf("%s patched by %s: %w", ms[i].where, p.where, err)
	}
	ms[i] = manifest{where: ms[i].where + " patched by " + p.where, kind: p.kind, name: p.name, obj: obj, raw: js}
	return nil
}

// checkPatchLists refuses lists a strategic merge would merge by key.
func checkPatchLists(v any, path string) error {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if err := checkPatchLists(e, strings.TrimPrefix(path+"."+k, ".")); err != nil {
				return err
			}
		}
	case []any:
		if !slices.Contains(patchableLists, path) {
			return fmt.Errorf("patch sets the list %s: kustomize would merge it by key, not replace it; patch only %v", path, patchableLists)
		}
	}
	return nil
}

// mergePatch applies an RFC 7386 JSON merge patch to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// mustDecode decodes a test document or fails the test.
func mustDecode(t *testing.T, name, doc string) []manifest {
	t.Helper()
	ms, err := decodeManifests(name, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestKustomizePatchesReplaceOnlyWholeLists(t *testing.T) {
	base := mustDecode(t, "base", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  podSelector: {matchLabels: {a: b}}\n  egress:\n    - ports: [{port: 1}]\n    - ports: [{port: 2}]\n")
	patch := mustDecode(t, "patch", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  egress:\n    - ports: [{port: 3}]\n")
	if err := applyPatch(base, patch[0]); err != nil {
		t.Fatal(err)
	}
	np := base[0].obj.(*networkingv1.NetworkPolicy)
	if len(np.Spec.Egress) != 1 || np.Spec.Egress[0].Ports[0].Port.IntVal != 3 || np.Spec.PodSelector.MatchLabels["a"] != "b" || np.Namespace != "ns" {
		t.Errorf("patched policy %+v: want the egress list replaced, everything else kept", np.Spec)
	}
	svc := mustDecode(t, "svc", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 1}]\n")
	ports := mustDecode(t, "ports", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 2}]\n")
	if err := applyPatch(svc, ports[0]); err == nil {
		t.Error("a patch of Service ports (merged by key in kustomize) was applied as a replacement")
	}
	if err := applyPatch(svc, patch[0]); err == nil {
		t.Error("a patch of a resource that does not exist was applied")
	}
}

// agentCapabilities are the only capabilities the npm-agent may add, each
// for a strategy or a /proc read (npm-agent/README.md, kernel support
// matrix).
var agentCapabilities = []corev1.Capability{"BPF", "PERFMON", "SYS_ADMIN", "SYS_RESOURCE", "SYS_PTRACE", "DAC_READ_SEARCH"}

func isTrue(b *bool) bool { return b != nil && *b }

// checkLeastPrivilege checks every workload of r: seccomp RuntimeDefault,
// read-only root, no privilege escalation, capabilities dropped, non-root
// and no host access, except the agent's documented ones.
func checkLeastPrivilege(t *testing.T, r rendered) {
	t.Helper()
	for _, w := range workloadsOf(r.manifests) {
		pod := w.pod.Spec
		ps := pod.SecurityContext
		if ps == nil {
			ps = &corev1.PodSecurityContext{}
		}
		for _, c := range pod.Containers {
			where := fmt.Sprintf("%s: %s %s/%s", r.dir, w.kind, w.name, c.Name)
			checkContainerPrivilege(t, where, w.name, ps, c)
		}
		agent := w.name == "npm-agent"
		if pod.HostPID != agent {
			t.Errorf("%s: %s %s: hostPID %v; only the npm-agent shares the host's pids", r.dir, w.kind, w.name, pod.HostPID)
		}
		if pod.HostNetwork || pod.HostIPC {
			t.Errorf("%s: %s %s: hostNetwork or hostIPC (NetworkPolicies would not apply)", r.dir, w.kind, w.name)
		}
		for _, v := range pod.Volumes {
			if v.HostPath != nil && (!agent || v.HostPath.Path != "/sys/fs/cgroup") {
				t.Errorf("%s: %s %s: hostPath %s", r.dir, w.kind, w.name, v.HostPath.Path)
			}
		}
		if !agent && (pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken) {
			t.Errorf("%s: %s %s mounts a service account token it never uses", r.dir, w.kind, w.name)
		}
	}
}

// checkContainerPrivilege checks one container with its pod's context.
func checkContainerPrivilege(t *testing.T, where, workload string, ps *corev1.PodSecurityContext, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s: no securityContext", where)
		return
	}
	seccomp := ps.SeccompProfile
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile %v, want RuntimeDefault", where, seccomp)
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Errorf("%s: readOnlyRootFilesystem is not true", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	}
	if isTrue(sc.Privileged) {
		t.Errorf("%s: privileged", where)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("%s: capabilities do not drop ALL", where)
		return
	}
	if workload == "npm-agent" {
		for _, cp := range sc.Capabilities.Add {
			if !slices.Contains(agentCapabilities, cp) {
				t.Errorf("%s: adds %s, which no strategy needs (allowed: %v)", where, cp, agentCapabilities)
			}
		}
		return
	}
	if len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: adds capabilities %v", where, sc.Capabilities.Add)
	}
	if !isTrue(sc.RunAsNonRoot) && !isTrue(ps.RunAsNonRoot) {
		t.Errorf("%s: runAsNonRoot is not true", where)
	}
	uid := ps.RunAsUser
	if sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if uid == nil || *uid == 0 {
		t.Errorf("%s: uid %v; want a non-zero runAsUser (the image's user may be root)", where, uid)
	}
}

func TestKubernetesWorkloadsRunWithLeastPrivilege(t *testing.T) {
	for _, r := range renderAll(t, loadDeployTree(t)) {
		checkLeastPrivilege(t, r)
	}
}

// TestAgentCapabilitiesEachHaveAReason: every capability the DaemonSet
// adds carries its reason as a comment on its line.
func TestAgentCapabilitiesEachHaveAReason(t *testing.T) {
	path := filepath.Join(kubernetesDir, "base", "npm-agent.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, doc := range documentSeparator.Split(string(data), -1) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatalf("%s#%d: %v", path, i, err)
		}
		for _, add := range yamlValues(&n, "add") {
			found = true
			for _, c := range add.Content {
				if strings.TrimSpace(strings.TrimPrefix(c.LineComment, "#")) == "" {
					t.Errorf("%s:%d: capability %s has no comment giving its reason", path, c.Line, c.Value)
				}
			}
		}
	}
	if !found {
		t.Errorf("%s: no capabilities.add", path)
	}
}

// yamlValues returns the values of every mapping key named key under n.
func yamlValues(n *yaml.Node, key string) []*yaml.Node {
	var out []*yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				out = append(out, n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		out = append(out, yamlValues(c, key)...)
	}
	return out
}

// portKey is a protocol and port, as NetworkPolicies and containers name
// them.
type portKey struct {
	proto corev1.Protocol
	port  int32
}

func (p portKey) String() string { return fmt.Sprintf("%s/%d", p.proto, p.port) }

// sortedPorts lists a set of ports in order, for messages and comparison.
func sortedPorts(set map[portKey]bool) []string {
	var out []string
	for p := range set {
		out = append(out, p.String())
	}
	slices.Sort(out)
	return out
}

// policyPort resolves a NetworkPolicy port against the pod's containers;
// a rule without a port, or with a range, allows too much.
func policyPort(pod *corev1.PodSpec, p networkingv1.NetworkPolicyPort) (portKey, error) {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil {
		proto = *p.Protocol
	}
	if p.Port == nil || p.EndPort != nil {
		return portKey{}, fmt.Errorf("%s rule allows every port or a range", proto)
	}
	if p.Port.Type == intstr.Int {
		return portKey{proto, p.Port.IntVal}, nil
	}
	for _, c := range pod.Containers {
		if n, ok := containerPort(c, *p.Port, proto); ok {
			return portKey{proto, n}, nil
		}
	}
	return portKey{}, fmt.Errorf("named port %s/%s is not a container port", proto, p.Port.StrVal)
}

// policiesFor returns the NetworkPolicies of r selecting the pod, of the
// given type.
func policiesFor(t *testing.T, r rendered, pod *corev1.PodTemplateSpec, typ networkingv1.PolicyType) []*networkingv1.NetworkPolicy {
	t.Helper()
	var out []*networkingv1.NetworkPolicy
	for _, m := range r.manifests {
		np, ok := m.obj.(*networkingv1.NetworkPolicy)
		if !ok || !slices.Contains(np.Spec.PolicyTypes, typ) {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Errorf("%s: NetworkPolicy %s: %v", r.dir, np.Name, err)
			continue
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			out = append(out, np)
		}
	}
	return out
}

// componentPorts is what a component serves according to the config: its
// /metrics + /healthz port, and the ports anyone may reach (the
// collector's UDP listeners, the API).
func componentPorts(t *testing.T, config, component string) (metrics portKey, public map[portKey]bool) {
	t.Helper()
	section := rawSection(t, config, strings.ReplaceAll(component, "-", "_"))
	public = map[portKey]bool{}
	if addr, ok := section["listen"].(string); ok && component == "api" {
		_, p := listenPort(t, config+": api.listen", addr)
		public[portKey{corev1.ProtocolTCP, p}] = true
		return portKey{corev1.ProtocolTCP, p}, public
	}
	addr, _ := section["http"].(string)
	_, p := listenPort(t, config+": "+component+".http", addr)
	for _, key := range []string{"netflow_listen", "sflow_listen"} {
		list, _ := section[key].([]any)
		for _, a := range list {
			s, _ := a.(string)
			_, up := listenPort(t, config+": flow_collector."+key, s)
			public[portKey{corev1.ProtocolUDP, up}] = true
		}
	}
	return portKey{corev1.ProtocolTCP, p}, public
}

// addressPorts are the TCP ports of a config list of host:port addresses.
func addressPorts(t *testing.T, config, section, key string) map[portKey]bool {
	t.Helper()
	list, _ := rawSection(t, config, section)[key].([]any)
	if len(list) == 0 {
		t.Errorf("%s: %s.%s is not set explicitly", config, section, key)
	}
	out := map[portKey]bool{}
	for _, a := range list {
		s, _ := a.(string)
		_, p := listenPort(t, config+": "+section+"."+key, s)
		out[portKey{corev1.ProtocolTCP, p}] = true
	}
	return out
}

// expectedEgress is where each component connects, by the config: Kafka
// but for the api, ClickHouse for the correlator, the api and alerting,
// the API server for the agent's informer, the devices for the poller,
// the api and Alertmanagers for alerting. DNS apart.
func expectedEgress(t *testing.T, config, component string) map[portKey]bool {
	t.Helper()
	want := map[portKey]bool{}
	if component != "api" {
		maps.Copy(want, addressPorts(t, config, "kafka", "brokers"))
	}
	if component == "correlator" || component == "api" || component == "alerting" {
		maps.Copy(want, addressPorts(t, config, "clickhouse", "addresses"))
	}
	if component == "alerting" {
		maps.Copy(want, urlPorts(t, config, "alerting"))
	}
	switch component {
	case "npm-agent":
		want[portKey{corev1.ProtocolTCP, 443}] = true  // the kubernetes Service
		want[portKey{corev1.ProtocolTCP, 6443}] = true // its endpoints
	case "snmp-poller":
		want[portKey{corev1.ProtocolUDP, 161}] = true
	}
	return want
}

// urlPorts are the TCP ports of alerting's api.url and alertmanagers.
func urlPorts(t *testing.T, config, section string) map[portKey]bool {
	t.Helper()
	raw := rawSection(t, config, section)
	var urls []string
	if api, ok := raw["api"].(map[string]any); ok {
		s, _ := api["url"].(string)
		urls = append(urls, s)
	}
	list, _ := raw["alertmanagers"].([]any)
	for _, a := range list {
		s, _ := a.(string)
		urls = append(urls, s)
	}
	out := map[portKey]bool{}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || u.Port() == "" {
			t.Errorf("%s: %s: %q has no explicit port", config, section, s)
			continue
		}
		p, _ := strconv.Atoi(u.Port())
		out[portKey{corev1.ProtocolTCP, int32(p)}] = true
	}
	return out
}

// checkDefaultDeny: one policy selects every pod with no rule at all.
func checkDefaultDeny(t *testing.T, r rendered) {
	t.Helper()
	for _, m := range r.manifests {
		np, ok := m.obj.(*networkingv1.NetworkPolicy)
		if ok && len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.PodSelector.MatchExpressions) == 0 &&
			slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) &&
			len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 {
			return
		}
	}
	t.Errorf("%s: no NetworkPolicy denies all ingress and egress of every pod (podSelector {}, policyTypes [Ingress, Egress], no rules)", r.dir)
}

// checkIngressPolicies: a component admits exactly the ports it serves;
// /metrics only from a namespace selector (the monitoring namespace).
func checkIngressPolicies(t *testing.T, r rendered, w workload) {
	t.Helper()
	metrics, public := componentPorts(t, r.config, w.name)
	want := maps.Clone(public)
	want[metrics] = true
	declared := map[portKey]bool{}
	for _, c := range w.pod.Spec.Containers {
		for _, cp := range c.Ports {
			proto := cmp.Or(cp.Protocol, corev1.ProtocolTCP)
			declared[portKey{proto, cp.ContainerPort}] = true
		}
	}
	if !maps.Equal(want, declared) {
		t.Errorf("%s: %s serves %v by %s, its containers declare %v", r.dir, w.name, sortedPorts(want), r.config, sortedPorts(declared))
	}
	allowed := map[portKey]bool{}
	for _, np := range policiesFor(t, r, w.pod, networkingv1.PolicyTypeIngress) {
		for _, rule := range np.Spec.Ingress {
			for _, pp := range rule.Ports {
				p, err := policyPort(&w.pod.Spec, pp)
				if err != nil {
					t.Errorf("%s: NetworkPolicy %s: %v", r.dir, np.Name, err)
					continue
				}
				allowed[p] = true
				if !public[p] && !fromNamespacesOnly(rule.From) {
					t.Errorf("%s: NetworkPolicy %s admits %s of %s from %v; want a namespace selector (monitoring)", r.dir, np.Name, p, w.name, rule.From)
				}
			}
			if len(rule.Ports) == 0 {
				t.Errorf("%s: NetworkPolicy %s admits every port of %s", r.dir, np.Name, w.name)
			}
		}
	}
	if !maps.Equal(allowed, want) {
		t.Errorf("%s: NetworkPolicies admit %v into %s, want %v (its listeners in %s)", r.dir, sortedPorts(allowed), w.name, sortedPorts(want), r.config)
	}
}

// fromNamespacesOnly: every peer is a non-empty namespace selector.
func fromNamespacesOnly(peers []networkingv1.NetworkPolicyPeer) bool {
	if len(peers) == 0 {
		return false
	}
	for _, p := range peers {
		if p.IPBlock != nil || p.NamespaceSelector == nil || len(p.NamespaceSelector.MatchLabels)+len(p.NamespaceSelector.MatchExpressions) == 0 {
			return false
		}
	}
	return true
}

// checkEgressPolicies: a component reaches DNS in kube-system and, on
// named networks (never 0.0.0.0/0), exactly the ports it connects to.
func checkEgressPolicies(t *testing.T, r rendered, w workload) {
	t.Helper()
	dns := portKey{corev1.ProtocolUDP, 53}
	dnsTCP := portKey{corev1.ProtocolTCP, 53}
	allowed := map[portKey]bool{}
	for _, np := range policiesFor(t, r, w.pod, networkingv1.PolicyTypeEgress) {
		for _, rule := range np.Spec.Egress {
			if len(rule.To) == 0 || len(rule.Ports) == 0 {
				t.Errorf("%s: NetworkPolicy %s lets %s reach every address or every port", r.dir, np.Name, w.name)
			}
			for _, pp := range rule.Ports {
				p, err := policyPort(&w.pod.Spec, pp)
				if err != nil {
					t.Errorf("%s: NetworkPolicy %s: %v", r.dir, np.Name, err)
					continue
				}
				allowed[p] = true
				if err := checkEgressPeers(rule.To, p == dns || p == dnsTCP); err != nil {
					t.Errorf("%s: NetworkPolicy %s, %s of %s: %v", r.dir, np.Name, p, w.name, err)
				}
			}
		}
	}
	if !allowed[dns] || !allowed[dnsTCP] {
		t.Errorf("%s: %s may not resolve names (UDP and TCP 53)", r.dir, w.name)
	}
	delete(allowed, dns)
	delete(allowed, dnsTCP)
	if want := expectedEgress(t, r.config, w.name); !maps.Equal(allowed, want) {
		t.Errorf("%s: NetworkPolicies let %s reach %v, want %v (%s)", r.dir, w.name, sortedPorts(allowed), sortedPorts(want), r.config)
	}
}

// checkEgressPeers: DNS goes to kube-system; everything else to named
// networks outside the cluster, none of them the whole Internet.
func checkEgressPeers(peers []networkingv1.NetworkPolicyPeer, isDNS bool) error {
	for _, p := range peers {
		if isDNS {
			if p.NamespaceSelector == nil || p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "kube-system" {
				return fmt.Errorf("DNS to %v, want the kube-system namespace", p)
			}
			continue
		}
		if p.IPBlock == nil && inCluster(p) {
			continue
		}
		if p.IPBlock == nil {
			return fmt.Errorf("peer %v: want an ipBlock of the service's network", p)
		}
		_, n, err := net.ParseCIDR(p.IPBlock.CIDR)
		if err != nil {
			return err
		}
		if ones, _ := n.Mask.Size(); ones == 0 {
			return fmt.Errorf("ipBlock %s is every address", p.IPBlock.CIDR)
		}
	}
	return nil
}

// inCluster: a peer in the cluster named precisely — pods of this
// namespace by label, or a namespace by name (alerting's api and
// Alertmanager).
func inCluster(p networkingv1.NetworkPolicyPeer) bool {
	if p.NamespaceSelector == nil {
		return p.PodSelector != nil && len(p.PodSelector.MatchLabels) > 0
	}
	return p.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != ""
}

func TestNetworkPoliciesDenyByDefaultAndAdmitOnlyWhatEachComponentUses(t *testing.T) {
	for _, r := range renderAll(t, loadDeployTree(t)) {
		checkNetworkPolicies(t, r)
	}
}

// checkNetworkPolicies runs the policy checks on one rendering.
func checkNetworkPolicies(t *testing.T, r rendered) {
	t.Helper()
	checkDefaultDeny(t, r)
	for _, w := range workloadsOf(r.manifests) {
		checkIngressPolicies(t, r, w)
		checkEgressPolicies(t, r, w)
	}
}

// checkExposure: the api stays ClusterIP, only the flow-collector is
// exposed by its Service; an overlay limits who reaches its load balancer
// (loadBalancerSourceRanges, the same networks as its NetworkPolicy), and
// Ingresses route to ClusterIP Services' ports.
func checkExposure(t *testing.T, r rendered, overlay bool) {
	t.Helper()
	services := map[string]*corev1.Service{}
	for _, m := range r.manifests {
		if s, ok := m.obj.(*corev1.Service); ok {
			services[s.Name] = s
		}
	}
	api := services["api"]
	if api == nil || cmp.Or(api.Spec.Type, corev1.ServiceTypeClusterIP) != corev1.ServiceTypeClusterIP {
		t.Errorf("%s: Service api is not ClusterIP: expose it with an Ingress", r.dir)
	}
	for name, s := range services {
		if name != "flow-collector" && cmp.Or(s.Spec.Type, corev1.ServiceTypeClusterIP) != corev1.ServiceTypeClusterIP {
			t.Errorf("%s: Service %s is %s; only the flow-collector faces exporters", r.dir, name, s.Spec.Type)
		}
	}
	if fc := services["flow-collector"]; fc != nil && overlay {
		checkSourceRanges(t, r, fc)
	}
	ingresses := 0
	for _, m := range r.manifests {
		if ing, ok := m.obj.(*networkingv1.Ingress); ok {
			ingresses++
			checkIngressBackends(t, r, ing, services)
		}
	}
	if overlay && ingresses == 0 {
		t.Errorf("%s: no Ingress: the API is ClusterIP, an overlay shows how to reach it", r.dir)
	}
}

// checkSourceRanges: the load balancer admits named networks only, and
// the exporters' NetworkPolicy, when it names networks, names the same.
func checkSourceRanges(t *testing.T, r rendered, fc *corev1.Service) {
	t.Helper()
	ranges := fc.Spec.LoadBalancerSourceRanges
	if fc.Spec.Type == corev1.ServiceTypeLoadBalancer && len(ranges) == 0 {
		t.Errorf("%s: the flow-collector's load balancer has no loadBalancerSourceRanges: anyone may send it flows", r.dir)
	}
	for _, c := range ranges {
		if _, n, err := net.ParseCIDR(c); err != nil || n.IP.IsUnspecified() {
			t.Errorf("%s: loadBalancerSourceRanges %q: want a network of exporters (%v)", r.dir, c, err)
		}
	}
	var blocks []string
	for _, m := range r.manifests {
		np, ok := m.obj.(*networkingv1.NetworkPolicy)
		if !ok || np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != "flow-collector" {
			continue
		}
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.From {
				if p.IPBlock != nil {
					blocks = append(blocks, p.IPBlock.CIDR)
				}
			}
		}
	}
	slices.Sort(blocks)
	want := slices.Sorted(slices.Values(ranges))
	if len(blocks) > 0 && !slices.Equal(blocks, want) {
		t.Errorf("%s: flow-collector NetworkPolicy admits %v, its load balancer %v: keep them the same", r.dir, blocks, want)
	}
}

// checkIngressBackends: every path goes to a ClusterIP Service's port,
// over TLS.
func checkIngressBackends(t *testing.T, r rendered, ing *networkingv1.Ingress, services map[string]*corev1.Service) {
	t.Helper()
	if len(ing.Spec.TLS) == 0 {
		t.Errorf("%s: Ingress %s has no TLS: API tokens would cross in the clear", r.dir, ing.Name)
	}
	for _, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			b := p.Backend.Service
			if b == nil {
				t.Errorf("%s: Ingress %s path %s has no Service backend", r.dir, ing.Name, p.Path)
				continue
			}
			s := services[b.Name]
			if s == nil || !slices.ContainsFunc(s.Spec.Ports, func(sp corev1.ServicePort) bool {
				return b.Port.Name != "" && sp.Name == b.Port.Name || b.Port.Number != 0 && sp.Port == b.Port.Number
			}) {
				t.Errorf("%s: Ingress %s path %s: Service %s has no port %v", r.dir, ing.Name, p.Path, b.Name, b.Port)
			}
		}
	}
}

func TestServicesKeepTheAPIInternalAndOverlaysLimitTheLoadBalancer(t *testing.T) {
	overlays := 0
	for _, r := range renderAll(t, loadDeployTree(t)) {
		overlay := filepath.Base(r.dir) != "base"
		if overlay {
			overlays++
		}
		checkExposure(t, r, overlay)
	}
	if overlays == 0 {
		t.Error("no overlay: the example overlay shows the Ingress and the source ranges")
	}
}
