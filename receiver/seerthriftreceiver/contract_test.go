package seerthriftreceiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// tcpGenerator sends spans through the real TCP transport, one span per
// batch, each with a unique test_id attribute. Like a real sender it sends
// again on Overloaded and gives up on InvalidBatch.
type tcpGenerator struct {
	t       *testing.T
	addr    net.Addr
	clients chan *testClient
	seq     atomic.Int64
}

// Start opens four connections, one per dialect.
func (g *tcpGenerator) Start() {
	g.clients = make(chan *testClient, 4)
	for i := range cap(g.clients) {
		g.clients <- dialClient(g.t, g.addr, dialects[i%len(dialects)])
	}
}

// Stop closes the connections.
func (g *tcpGenerator) Stop() {
	close(g.clients)
	for c := range g.clients {
		_ = c.conn.Close()
	}
}

// Generate sends one span until it is taken or refused for good.
func (g *tcpGenerator) Generate() []receivertest.UniqueIDAttrVal {
	c := <-g.clients
	defer func() { g.clients <- c }()
	id := g.seq.Add(1)
	val := receivertest.UniqueIDAttrVal(fmt.Sprintf("id-%d", id))
	b := testBatch(1)
	b.Spans[0].Attributes = []*seerthrift.KeyValue{{Key: receivertest.UniqueIDAttrName, Value: string(val)}}
	for {
		_, err := c.SubmitBatch(context.Background(), b)
		var ovl *seerthrift.Overloaded
		if errors.As(err, &ovl) {
			continue
		}
		var inv *seerthrift.InvalidBatch
		if err != nil && !errors.As(err, &inv) {
			require.NoError(g.t, err)
		}
		return []receivertest.UniqueIDAttrVal{val}
	}
}

func TestConsumeContract(t *testing.T) {
	ln, err := net.Listen("tcp", "localhost:0")
	require.NoError(t, err)
	addr := ln.Addr()
	require.NoError(t, ln.Close())

	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.TCP.GetOrInsertDefault().Endpoint = addr.String()
	receivertest.CheckConsumeContract(receivertest.CheckConsumeContractParams{
		T:             t,
		Factory:       NewFactory(),
		Signal:        pipeline.SignalTraces,
		Config:        cfg,
		Generator:     &tcpGenerator{t: t, addr: addr},
		GenerateCount: 2000,
	})
}
