// Package threeservices is a small Thrift application instrumented with
// thrifttracing: three services over loopback that send their spans to a
// seerthrift receiver.
//
//	frontend.home ──┬─▶ users.getUser ──▶ storage.get
//	                └─▶ storage.get
//
// frontend calls users and storage in parallel, and users calls storage, so
// every request to frontend makes one trace of seven spans: three SERVER
// spans (frontend, users, storage twice: four) and three CLIENT spans.
// Each service does a configurable amount of local work (a few hundred
// microseconds by default) on a bounded pool of workers, so requests queue
// under load and the queueing shows in the spans' processing-start times and
// outstanding-request counts.
//
// Start runs the services; App.RunOpenLoop and App.RunClosedLoop drive load;
// Run does all of it until its context ends.
package threeservices
