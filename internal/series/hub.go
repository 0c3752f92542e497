package series

import (
	"github.com/seer-qos/seer/internal/broadcast"
)

// Subscription receives Batches from a Hub. Read C; call Close when done.
type Subscription = broadcast.Subscription[Batch]

// Hub is the in-process hand-off of series: producers Publish Batches and
// every subscriber gets them through its own bounded buffer, so a slow
// subscriber loses Batches (counted) instead of stalling the producers.
type Hub struct {
	name string
	b    *broadcast.Broadcaster[Batch]
}

// Name is the name the Hub is registered under.
func (h *Hub) Name() string { return h.name }

// Subscribe adds a subscriber with room for buffer Batches.
func (h *Hub) Subscribe(subscriber string, buffer int) *Subscription {
	return h.b.Subscribe(subscriber, buffer)
}

// Publish hands b to every subscriber without blocking.
func (h *Hub) Publish(b Batch) (delivered, dropped int) { return h.b.Publish(b) }

// Dropped is how many deliveries were lost to full subscriber buffers.
func (h *Hub) Dropped() uint64 { return h.b.Dropped() }

// Published is how many Batches were published.
func (h *Hub) Published() uint64 { return h.b.Published() }

// Subscribers describes the current subscribers.
func (h *Hub) Subscribers() []broadcast.SubscriberStats { return h.b.Stats() }

// Registry finds Hubs by name, creating a Hub on first use by either side
// (producer or subscriber) and closing its subscriptions at the last Release.
type Registry = broadcast.Registry[*Hub]

// DefaultRegistry is the registry of the running process. Components name a
// Hub by the component ID of the queuedepth processor ("queuedepth",
// "queuedepth/edge", ...).
var DefaultRegistry = broadcast.NewRegistry(
	func(name string) *Hub { return &Hub{name: name, b: broadcast.New[Batch]()} },
	func(h *Hub) { h.b.Close() },
)
