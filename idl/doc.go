// Package idl holds seer.thrift, the wire format of Seer's RPC-level tracing,
// and checks that the Go code generated from it (package seerthrift) is
// current. Regenerate with `make generate`.
package idl
