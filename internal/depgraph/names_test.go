package depgraph

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNameTableCompaction feeds spans with ever new operation and service
// names (beyond the caps) through a graph whose name table is compacted
// often and one whose table never is: snapshots, stats and events agree,
// and the compacted table stays bounded.
func TestNameTableCompaction(t *testing.T) {
	mutate := func(c *Config) {
		c.MaxServices = 5
		c.MaxOperations = 20
		c.Expiry = 20 * time.Second
	}
	compacted, cfeed := newGraph(t, mutate)
	plain, pfeed := newGraph(t, mutate)
	plain.nameLimit = 1 << 30
	cev := cfeed.Subscribe("test", 1<<16)
	pev := pfeed.Subscribe("test", 1<<16)
	for n := uint64(1); n <= 6000; n++ {
		at := base + int64(n)*10*msNS
		b := &builder{trace: n, at: at}
		svc := fmt.Sprintf("svc%d", n/500) // services come and go
		root := b.span(0, "frontend", fmt.Sprintf("op%d", n%3000), KindServer, 0, 100)
		_, u := b.call(root, "frontend", svc, fmt.Sprintf("get%d", n), 5, 45)
		b.call(u, svc, "storage", "read", 15, 35)
		c := b.span(root, "frontend", "cache", KindClient, 50, 60)
		b.spans[len(b.spans)-1].PeerService = fmt.Sprintf("cache%d", n%7)
		_ = c
		compacted.Add(b.spans)
		plain.Add(b.spans)
	}
	require.Less(t, len(compacted.nameStrs), 2*minNameLimit(compacted.cfg)+10)
	require.Greater(t, len(plain.nameStrs), 8000)
	compacted.Flush()
	plain.Flush()
	compacted.Rotate()
	plain.Rotate()
	require.Equal(t, plain.Stats(), compacted.Stats())
	require.Equal(t, plain.Snapshot(), compacted.Snapshot())
	require.Len(t, cev.C, len(pev.C))
	for len(pev.C) > 0 {
		require.Equal(t, <-pev.C, <-cev.C)
	}
}
