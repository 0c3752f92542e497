// Package sim is Seer's discrete-event simulator of microservice
// applications (`seer sim`). It runs a topology (package sim/topology) under
// open-loop load with injected faults, and produces per-instance queue-depth
// series, QoS violation labels with the fault behind each, and optionally
// spans, in event time and deterministically: the same Config (seed
// included) gives the same output, byte for byte.
//
// Model. A request visits service instances. At an instance it waits for a
// worker (the thread pool, Workers), then for a core (Cores), computes for a
// service time drawn from its operation's distribution and slowed by the
// faults acting on the instance, releases the core, then makes its
// downstream calls stage by stage (a stage is one call, or calls sent in
// parallel and joined), and replies. A blocking service holds the worker
// until the reply; an asynchronous one releases it after the compute. Every
// hop costs the network latency (plus jitter, plus fault delay) each way.
// Outstanding requests at an instance (arrived, not replied) are its queue
// depth, the quantity the seer.queue.outstanding_requests attribute carries.
//
// Documentation: SCENARIO.md in this directory (load, faults, QoS labels,
// actions, output, determinism), sim/topology/FORMAT.md (the topology YAML)
// and dataset/FORMAT.md (the dataset a run writes).
//
// Randomness comes from one PCG stream per purpose (arrivals, request mix,
// network, one per service), each seeded from the master seed and the
// stream's name, so that changing one service does not perturb the others.
// Events at the same time run in the order they were scheduled.
package sim
