package npmagent

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func testPod() *corev1.Pod {
	yes := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-7d9f8-abcde", Namespace: "shop", UID: types.UID("8d7a2b3c-1111-4222-8333-944455556666"),
			Labels:          map[string]string{"app": "web", "pod-template-hash": "7d9f8"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-7d9f8", Controller: &yes}},
		},
		Spec: corev1.PodSpec{
			NodeName: "node-1",
			Containers: []corev1.Container{{
				Name: "app", Image: "web:1",
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
			}},
		},
		Status: corev1.PodStatus{
			Phase:  corev1.PodRunning,
			PodIPs: []corev1.PodIP{{IP: "10.244.1.7"}, {IP: "fd00::7"}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", ContainerID: "containerd://" + testID, RestartCount: 2,
			}},
		},
	}
}

func TestPodRecordDescribesWorkloadAndResources(t *testing.T) {
	r := podRecord(testPod(), time.Unix(100, 0), false)
	if r.OwnerKind != "Deployment" || r.OwnerName != "web" || r.Phase != "Running" || r.Restarts != 2 || r.Node != "node-1" {
		t.Errorf("pod: %+v", r)
	}
	if len(r.Ips) != 2 || record.IPFromBytes(r.Ips[0]).String() != "10.244.1.7" || record.IPFromBytes(r.Ips[1]).String() != "fd00::7" {
		t.Errorf("ips %v", r.Ips)
	}
	c := r.Containers[0]
	if c.ContainerId != testID || c.CpuRequestMillis != 250 || c.CpuLimitMillis != 1000 || c.MemoryLimitBytes != 128<<20 || c.MemoryRequestBytes != 64<<20 {
		t.Errorf("container %+v", c)
	}
}

// TestPodWatcherPublishesPodsThroughKafka runs the informer against a fake
// API server and the real producer against the embedded broker.
func TestPodWatcherPublishesPodsThroughKafka(t *testing.T) {
	e, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop(context.Background())
	cfg := bus.DefaultConfiguration()
	cfg.Brokers = []string{e.Addr()}
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	prod, err := bus.NewProducer(cfg, r, record.TopicPods)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := prod.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer prod.Stop()

	client := fake.NewClientset(testPod())
	w := newPodWatcher(client, "node-1", time.Hour, prod, nil)
	wctx, wcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = w.run(wctx); close(done) }()
	defer func() { wcancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for w.podOf(testID) == "" {
		if time.Now().After(deadline) {
			t.Fatal("informer never indexed the pod's container")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := client.CoreV1().Pods("shop").Delete(ctx, "web-7d9f8-abcde", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for w.podOf(testID) != "" {
		if time.Now().After(deadline) {
			t.Fatal("deleted pod still indexed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := prod.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Addr()), kgo.ConsumeTopics(record.TopicPods), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*record.Pod
	for len(got) < 2 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			p := &record.Pod{}
			if err := proto.Unmarshal(rec.Value, p); err != nil {
				t.Error(err)
				return
			}
			if string(rec.Key) != p.Uid {
				t.Errorf("key %q, uid %q", rec.Key, p.Uid)
			}
			got = append(got, p)
		})
	}
	if got[0].Name != "web-7d9f8-abcde" || got[0].Deleted || !got[len(got)-1].Deleted {
		t.Errorf("records: first %v, last deleted=%v", got[0].Name, got[len(got)-1].Deleted)
	}
}
