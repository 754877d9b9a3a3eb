package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// EnsureTopics creates the topics that do not exist yet, with the
// configured partitions and retention. Existing topics are left as they
// are: changing partition counts under a running pipeline reorders keys.
func EnsureTopics(ctx context.Context, c Configuration, topics ...string) error {
	opts, err := c.clientOptions()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	configs := map[string]*string{}
	if c.Retention > 0 {
		ms := strconv.FormatInt(c.Retention.Milliseconds(), 10)
		configs["retention.ms"] = &ms
	}
	if c.RetentionBytes > 0 {
		b := strconv.FormatInt(c.RetentionBytes, 10)
		configs["retention.bytes"] = &b
	}
	resp, err := adm.CreateTopics(ctx, c.PartitionCount(), c.ReplicationFactor, configs, topics...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}
