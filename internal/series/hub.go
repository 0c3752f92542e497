package series

import (
	"sync"

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

// Registry finds Hubs by name. The Collector may build a component once per
// pipeline and starts components in an order that spans pipelines, so a Hub
// is created by whichever side asks first (producer or subscriber) and lives
// until the last holder releases it.
type Registry struct {
	mu   sync.Mutex
	hubs map[string]*regEntry
}

type regEntry struct {
	hub  *Hub
	refs int
}

// DefaultRegistry is the registry of the running process. Components name a
// Hub by the component ID of the queuedepth processor ("queuedepth",
// "queuedepth/edge", ...).
var DefaultRegistry = &Registry{}

// Acquire returns the Hub called name, creating it if needed. Each Acquire
// must be paired with one Release.
func (r *Registry) Acquire(name string) *Hub {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hubs == nil {
		r.hubs = make(map[string]*regEntry)
	}
	e, ok := r.hubs[name]
	if !ok {
		e = &regEntry{hub: &Hub{name: name, b: broadcast.New[Batch]()}}
		r.hubs[name] = e
	}
	e.refs++
	return e.hub
}

// Release drops one reference; the last one closes the Hub's subscriptions.
func (r *Registry) Release(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.hubs[name]
	if !ok {
		return
	}
	e.refs--
	if e.refs <= 0 {
		delete(r.hubs, name)
		e.hub.b.Close()
	}
}
