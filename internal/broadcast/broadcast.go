// Package broadcast fans values out to in-process subscribers without ever
// blocking the producer. Each subscriber has its own bounded buffer; a value
// that does not fit is dropped for that subscriber only and counted, so a slow
// consumer (the predictor, a storage writer) can never stall the span path.
//
// It is the one hand-off mechanism that the series hub (package series) and
// the dependency-graph events (package depgraph) share.
package broadcast

import (
	"sort"
	"sync"
	"sync/atomic"
)

// Subscription is one subscriber's bounded queue of values.
type Subscription[T any] struct {
	// C delivers the values, oldest first. It is closed by Close or when the
	// Broadcaster is closed.
	C <-chan T

	ch      chan T
	name    string
	dropped atomic.Uint64
	b       *Broadcaster[T]
}

// Name is the name given to Subscribe.
func (s *Subscription[T]) Name() string { return s.name }

// Dropped is how many values did not fit in this subscriber's buffer.
func (s *Subscription[T]) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes and closes C. It is safe to call more than once.
func (s *Subscription[T]) Close() { s.b.remove(s) }

// SubscriberStats describes one subscriber for telemetry.
type SubscriberStats struct {
	Name     string
	Buffered int
	Capacity int
	Dropped  uint64
}

// Broadcaster delivers every published value to every subscriber.
// The zero value is not usable: call New.
type Broadcaster[T any] struct {
	mu        sync.RWMutex
	subs      map[*Subscription[T]]struct{}
	closed    bool
	published atomic.Uint64
	dropped   atomic.Uint64
}

// New returns an empty Broadcaster.
func New[T any]() *Broadcaster[T] {
	return &Broadcaster[T]{subs: make(map[*Subscription[T]]struct{})}
}

// Subscribe adds a subscriber with room for buffer values (at least 1).
// On a closed Broadcaster it returns a subscription whose C is closed.
func (b *Broadcaster[T]) Subscribe(name string, buffer int) *Subscription[T] {
	if buffer < 1 {
		buffer = 1
	}
	ch := make(chan T, buffer)
	s := &Subscription[T]{C: ch, ch: ch, name: name, b: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Publish offers v to every subscriber without blocking and returns how many
// subscribers got it and how many dropped it.
func (b *Broadcaster[T]) Publish(v T) (delivered, dropped int) {
	b.published.Add(1)
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		select {
		case s.ch <- v:
			delivered++
		default:
			s.dropped.Add(1)
			dropped++
		}
	}
	if dropped > 0 {
		b.dropped.Add(uint64(dropped))
	}
	return delivered, dropped
}

// Published is how many values were published.
func (b *Broadcaster[T]) Published() uint64 { return b.published.Load() }

// Dropped is how many deliveries were dropped, over all subscribers ever.
func (b *Broadcaster[T]) Dropped() uint64 { return b.dropped.Load() }

// Stats describes the current subscribers, sorted by name.
func (b *Broadcaster[T]) Stats() []SubscriberStats {
	b.mu.RLock()
	out := make([]SubscriberStats, 0, len(b.subs))
	for s := range b.subs {
		out = append(out, SubscriberStats{Name: s.name, Buffered: len(s.ch), Capacity: cap(s.ch), Dropped: s.dropped.Load()})
	}
	b.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Close closes every subscription; later subscriptions start closed.
func (b *Broadcaster[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for s := range b.subs {
		close(s.ch)
		delete(b.subs, s)
	}
}

func (b *Broadcaster[T]) remove(s *Subscription[T]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}
