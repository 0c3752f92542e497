package depgraph

import (
	"sync/atomic"
	"time"

	"github.com/seer-qos/seer/internal/broadcast"
)

// EventType names a graph change.
type EventType string

// The graph changes a subscriber (the predictor) is told about.
const (
	ServiceAdded        EventType = "service_added"
	ServiceRemoved      EventType = "service_removed"
	EdgeAdded           EventType = "edge_added"
	EdgeRemoved         EventType = "edge_removed"
	CriticalPathChanged EventType = "critical_path_changed"
)

// Event is one graph change, stamped with event time.
type Event struct {
	Type EventType `json:"type"`
	Time time.Time `json:"time"`
	// Service is set for service events.
	Service string `json:"service,omitempty"`
	// From and To are set for edge events.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Root ("service operation") and the paths are set for critical path
	// changes; OldPath is empty the first time a root is seen.
	Root    string   `json:"root,omitempty"`
	OldPath []string `json:"old_path,omitempty"`
	NewPath []string `json:"new_path,omitempty"`
}

// Feed is the in-process rendezvous of one graph: its events and, while the
// producing processor runs, its snapshots. Get one from a Registry.
type Feed struct {
	name   string
	events *broadcast.Broadcaster[Event]
	graph  atomic.Pointer[Graph]
}

// NewFeed returns a Feed that is in no registry (for tests and tools).
func NewFeed(name string) *Feed {
	return &Feed{name: name, events: broadcast.New[Event]()}
}

// Subscribe adds a subscriber with room for buffer events; events that do
// not fit are dropped for it and counted.
func (f *Feed) Subscribe(subscriber string, buffer int) *broadcast.Subscription[Event] {
	return f.events.Subscribe(subscriber, buffer)
}

// Snapshot returns the current graph, or false while no graph is attached.
func (f *Feed) Snapshot() (Snapshot, bool) {
	g := f.graph.Load()
	if g == nil {
		return Snapshot{}, false
	}
	return g.Snapshot(), true
}

// Attach makes g the graph of the Feed (nil detaches).
func (f *Feed) Attach(g *Graph) { f.graph.Store(g) }

// EventsDropped is how many event deliveries full subscribers lost.
func (f *Feed) EventsDropped() uint64 { return f.events.Dropped() }

// Registry finds Feeds by name (the queuedepth processor's component ID),
// creating them on first use by either side, so that start order does not
// matter; the last Release closes the Feed's subscriptions.
type Registry = broadcast.Registry[*Feed]

// DefaultRegistry is the registry of the running process.
var DefaultRegistry = broadcast.NewRegistry(NewFeed, func(f *Feed) { f.events.Close() })
