package broadcast

import "sync"

// Registry finds values (a series Hub, a graph Feed) by name. The Collector
// may build a component once per pipeline and starts components in an order
// that spans pipelines, so a value is created by whichever side asks first
// (producer or subscriber) and lives until the last holder releases it.
type Registry[V any] struct {
	create  func(name string) V
	destroy func(V)

	mu      sync.Mutex
	entries map[string]*regEntry[V]
}

type regEntry[V any] struct {
	v    V
	refs int
}

// NewRegistry returns a Registry that makes values with create and ends
// them with destroy when their last reference is released.
func NewRegistry[V any](create func(name string) V, destroy func(V)) *Registry[V] {
	return &Registry[V]{create: create, destroy: destroy, entries: make(map[string]*regEntry[V])}
}

// Acquire returns the value called name, creating it if needed. Each
// Acquire must be paired with one Release.
func (r *Registry[V]) Acquire(name string) V {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[name]
	if !ok {
		e = &regEntry[V]{v: r.create(name)}
		r.entries[name] = e
	}
	e.refs++
	return e.v
}

// Release drops one reference; the last one destroys the value.
func (r *Registry[V]) Release(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[name]
	if !ok {
		return
	}
	if e.refs--; e.refs <= 0 {
		delete(r.entries, name)
		r.destroy(e.v)
	}
}
