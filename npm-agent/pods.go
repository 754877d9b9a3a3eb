package npmagent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
)

// podWatcher follows the pods of this node, publishes them as record.Pod
// on every change, and answers which pod a container belongs to.
type podWatcher struct {
	client kubernetes.Interface
	node   string
	resync time.Duration
	pub    bus.Publisher
	onPub  func(deleted bool)

	mu          sync.RWMutex
	byContainer map[string]string   // container id -> pod uid
	containers  map[string][]string // pod uid -> its container ids
}

// inClusterClient returns a client when the agent runs in a Kubernetes
// pod, and nil (no error) anywhere else.
func inClusterClient() (kubernetes.Interface, error) {
	cfg, err := rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes in-cluster config: %w", err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return c, nil
}

func newPodWatcher(client kubernetes.Interface, node string, resync time.Duration, pub bus.Publisher, onPub func(bool)) *podWatcher {
	return &podWatcher{client: client, node: node, resync: resync, pub: pub, onPub: onPub,
		byContainer: map[string]string{}, containers: map[string][]string{}}
}

// run starts the informer; it returns when ctx ends.
func (w *podWatcher) run(ctx context.Context) error {
	f := informers.NewSharedInformerFactoryWithOptions(w.client, w.resync,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", w.node).String()
		}))
	inf := f.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { w.update(o, false) },
		UpdateFunc: func(_, o any) { w.update(o, false) }, // resyncs republish too
		DeleteFunc: func(o any) {
			if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = t.Obj
			}
			w.update(o, true)
		},
	})
	if err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
	return nil
}

// podOf answers the pod uid of a container id.
func (w *podWatcher) podOf(containerID string) string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.byContainer[containerID]
}

func (w *podWatcher) update(o any, deleted bool) {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	rec := podRecord(pod, time.Now(), deleted)
	uid := string(pod.UID)
	w.mu.Lock()
	for _, id := range w.containers[uid] {
		delete(w.byContainer, id)
	}
	delete(w.containers, uid)
	if !deleted {
		var ids []string
		for _, c := range rec.Containers {
			if c.ContainerId != "" {
				w.byContainer[c.ContainerId] = uid
				ids = append(ids, c.ContainerId)
			}
		}
		w.containers[uid] = ids
	}
	w.mu.Unlock()
	b, err := proto.Marshal(rec)
	if err != nil {
		return
	}
	w.pub.Publish(record.TopicPods, []byte(uid), b)
	if w.onPub != nil {
		w.onPub(deleted)
	}
}

// podRecord is the record of a pod as the agent sees it.
func podRecord(p *corev1.Pod, now time.Time, deleted bool) *record.Pod {
	r := &record.Pod{
		TimeNs:      uint64(now.UnixNano()),
		Uid:         string(p.UID),
		Name:        p.Name,
		Namespace:   p.Namespace,
		Node:        p.Spec.NodeName,
		Phase:       string(p.Status.Phase),
		Deleted:     deleted,
		HostNetwork: p.Spec.HostNetwork,
		Labels:      p.Labels,
	}
	for _, ip := range p.Status.PodIPs {
		if a, err := parseAddr(ip.IP); err == nil {
			r.Ips = append(r.Ips, a)
		}
	}
	if len(r.Ips) == 0 && p.Status.PodIP != "" {
		if a, err := parseAddr(p.Status.PodIP); err == nil {
			r.Ips = append(r.Ips, a)
		}
	}
	if p.Status.StartTime != nil {
		r.StartTimeNs = uint64(p.Status.StartTime.UnixNano())
	}
	r.OwnerKind, r.OwnerName = workload(p)
	statuses := map[string]corev1.ContainerStatus{}
	for _, s := range p.Status.ContainerStatuses {
		statuses[s.Name] = s
	}
	for _, c := range p.Spec.Containers {
		rc := &record.Container{
			Name:               c.Name,
			Image:              c.Image,
			CpuRequestMillis:   c.Resources.Requests.Cpu().MilliValue(),
			CpuLimitMillis:     c.Resources.Limits.Cpu().MilliValue(),
			MemoryRequestBytes: c.Resources.Requests.Memory().Value(),
			MemoryLimitBytes:   c.Resources.Limits.Memory().Value(),
		}
		if s, ok := statuses[c.Name]; ok {
			rc.ContainerId = containerIDFromRuntime(s.ContainerID)
			rc.Restarts = uint32(max(s.RestartCount, 0))
			r.Restarts += rc.Restarts
		}
		r.Containers = append(r.Containers, rc)
	}
	return r
}

// workload names the controller behind a pod; a ReplicaSet made by a
// Deployment is reported as that Deployment (its name minus the
// pod-template-hash suffix), which needs no extra API read.
func workload(p *corev1.Pod) (kind, name string) {
	for _, o := range p.OwnerReferences {
		if o.Controller == nil || !*o.Controller {
			continue
		}
		if o.Kind == "ReplicaSet" {
			if h := p.Labels["pod-template-hash"]; h != "" && strings.HasSuffix(o.Name, "-"+h) {
				return "Deployment", strings.TrimSuffix(o.Name, "-"+h)
			}
		}
		return o.Kind, o.Name
	}
	return "", ""
}
