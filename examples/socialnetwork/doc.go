// Package socialnetwork is Seer's demo application: a subset of
// DeathStarBench's Social Network as Go services that talk Thrift over
// loopback, instrumented with instrumentation/thrifttracing, driven by an
// open-loop load generator, with faults injected through an admin HTTP
// endpoint or on a schedule.
//
// The services and their calls carry the names of the simulator's
// social-network topology (sim/topology/topologies/social-network.yaml), so
// that the simulator and the demo speak of the same services:
//
//	nginx ─┬─ compose-post ──▶ compose-post-service ─┬─ text-service ─┬─ url-shorten-service ── url-shorten-mongodb
//	       │                                        │                └─ user-mention-service ─ user-memcached (miss: user-mongodb)
//	       │                                        ├─ user-service ── user-memcached (miss: user-mongodb)
//	       │                                        ├─ unique-id-service
//	       │                                        ├─ post-storage-service.storePost ─ post-storage-mongodb, post-storage-memcached
//	       │                                        └─ user-timeline-service.write, home-timeline-service.write ─ social-graph-service
//	       ├─ read-home-timeline ──▶ home-timeline-service ── home-timeline-redis, post-storage-service.readPosts
//	       └─ read-user-timeline ──▶ user-timeline-service ── user-timeline-redis (miss: user-timeline-mongodb),
//	                                                          post-storage-service.readPosts
//	post-storage-service.readPosts ── post-storage-memcached (miss: post-storage-mongodb)
//	social-graph-service ── social-graph-redis (miss: social-graph-mongodb)
//
// Every service is its own Thrift server on a loopback port with its own
// tracer, span exporter and instance id, all in one process. A service does
// its local work on a bounded pool of workers (busy computation for the
// logic and cache tiers, I/O-like sleeps for the storage tier), so requests
// queue under load and the queueing shows in the spans' processing-start
// times and outstanding-request counts. The cache tier (memcached, redis) is
// an in-process key-value store with a hit ratio; a miss falls through to
// the storage tier (mongodb) and fills the cache.
//
// # Load
//
// The load generator is open loop: arrival times are drawn in advance
// (Poisson, or constant), each request is sent at its scheduled time on its
// own goroutine whatever the earlier ones are doing, and its latency is
// measured from the scheduled time, not from when it was actually sent. A
// stalled service, or a stalled generator, therefore shows up as latency of
// every request scheduled during the stall: the measurement is free of
// coordinated omission. The request mix is DeathStarBench's: 60%
// read-home-timeline, 30% read-user-timeline, 10% compose-post. A Monitor
// keeps each request type's end-to-end p99 over a sliding window (1 s)
// against its QoS target (which it can first calibrate to the machine,
// QoSConfig.Calibrate) and reports violation intervals as log lines and as
// seer_demo_* Prometheus metrics.
//
// # Faults
//
// An Injector applies faults to services, each fault to one service, with
// real effects inside the process:
//
//   - cpu_hog: goroutines queue for the service's workers as requests do
//     and hold each for 20 ms, spinning a tenth of that time, so the
//     service has fewer workers for its requests and real CPU burns.
//     (A hog spinning flat out would starve the whole process, Go's
//     network poller included, and slow every service alike.) Magnitude
//     is the number of hog goroutines (default: the service's worker
//     count).
//   - delay: every request of the service waits this long on its worker,
//     as if a synchronous call inside the handler were slow. Magnitude is
//     the delay in milliseconds (default 10).
//   - lock_contention: a background goroutine holds the mutex of the
//     service's shared state, which every request takes on its worker, for
//     this fraction of each 20 ms cycle. Magnitude is the fraction, in
//     (0, 1) (default 0.8).
//
// The admin endpoint (AdminHandler: POST /faults, GET /faults, DELETE
// /faults/{id}) and the Scheduler, which injects a fault every few minutes
// rotating through services and kinds, both go through the Injector, which
// keeps the ground truth (kind, service, start, end) and exports it as
// seer_demo_fault_active{kind,service}.
//
// Run starts everything for `seer demo`; Start, NewGenerator and the pieces
// above are for tests and other drivers.
package socialnetwork
