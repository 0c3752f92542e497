package seernetqueuereceiver

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/procfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/receiver/seernetqueuereceiver/internal/metadata"
)

// stalled is a listening socket that never accepts nor reads, with clients
// that connected and sent bytes.
type stalled struct {
	ln      net.Listener
	port    uint16
	clients []net.Conn
}

func newStalled(t *testing.T, network, addr string, conns, bytesEach int) *stalled {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s listener on %s: %v", network, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	_, p, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	port, err := strconv.ParseUint(p, 10, 16)
	require.NoError(t, err)
	s := &stalled{ln: ln, port: uint16(port)}
	payload := make([]byte, bytesEach)
	for range conns {
		c, err := net.Dial(network, ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		_, err = c.Write(payload)
		require.NoError(t, err)
		s.clients = append(s.clients, c)
	}
	return s
}

// The kernel completes handshakes and buffers data by itself: the backlog
// and receive queue the test created must show up in /proc/net/tcp{,6}.
func TestSamplerSeesRealSocketQueues(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(tc.network, func(t *testing.T) {
			st := newStalled(t, tc.network, tc.addr, 3, 1000)
			idle := newStalled(t, tc.network, tc.addr, 0, 0)
			s, err := newSampler(procfs.DefaultMountPoint, []ServiceConfig{
				{Name: "stalled", Ports: []uint16{st.port}},
				{Name: "idle", Ports: []uint16{idle.port}},
				{Name: "absent", Ports: []uint16{1}},
			})
			require.NoError(t, err)
			var got []queues
			// The final ACKs and the data cross loopback asynchronously.
			require.Eventually(t, func() bool {
				got, err = s.sample()
				require.NoError(t, err)
				return got[0].ListenBacklog == 3 && got[0].ReceiveBytes == 3000
			}, 5*time.Second, 10*time.Millisecond, "queues: %+v", got)
			assert.Equal(t, uint64(3), got[0].Connections)
			assert.Equal(t, uint64(1), got[0].Listening)
			assert.Equal(t, queues{Listening: 1}, got[1])
			assert.Equal(t, queues{}, got[2])
		})
	}
}

// The whole receiver: samples reach the series hub and the metrics pipeline.
func TestReceiverFeedsHubAndPipeline(t *testing.T) {
	st := newStalled(t, "tcp4", "127.0.0.1:0", 2, 500)
	cfg := createDefaultConfig().(*Config)
	cfg.Tick = 20 * time.Millisecond
	cfg.Instance = "node-1"
	cfg.Hub = "queuedepth/netqueue-test"
	cfg.Services = []ServiceConfig{{Name: "legacy", Ports: []uint16{st.port}}}
	hub := series.DefaultRegistry.Acquire(cfg.Hub)
	defer series.DefaultRegistry.Release(cfg.Hub)
	sub := hub.Subscribe("test", 1000)

	sink := new(consumertest.MetricsSink)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewIDWithName(metadata.Type, "test")
	r, err := NewFactory().CreateMetrics(context.Background(), set, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()

	deadline := time.After(10 * time.Second)
	for {
		select {
		case b := <-sub.C:
			require.Equal(t, series.OriginNetQueue, b.Origin)
			require.Len(t, b.Samples, 1)
			s := b.Samples[0]
			assert.Equal(t, series.Key{Service: "legacy", Instance: "node-1"}, s.Key)
			assert.Equal(t, cfg.Tick, b.End.Sub(b.Start))
			assert.Zero(t, b.End.UnixNano()%int64(cfg.Tick), "aligned to the tick")
			if s.ListenBacklog != 2 || s.NICDepth != 1000 {
				continue
			}
			require.NoError(t, r.Shutdown(context.Background()))
			md := sink.AllMetrics()
			require.NotEmpty(t, md)
			rm := md[len(md)-1].ResourceMetrics().At(0)
			svc, _ := rm.Resource().Attributes().Get("service.name")
			assert.Equal(t, "legacy", svc.Str())
			names := map[string]int64{}
			ms := rm.ScopeMetrics().At(0).Metrics()
			for i := 0; i < ms.Len(); i++ {
				names[ms.At(i).Name()] = ms.At(i).Gauge().DataPoints().At(0).IntValue()
			}
			assert.Contains(t, names, "seer_netqueue_listen_backlog")
			assert.Contains(t, names, "seer_netqueue_receive_queue")
			return
		case <-deadline:
			t.Fatal("no sample showed the backlog of 2 and the 1000 bytes")
		}
	}
}
