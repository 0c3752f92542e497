package thrifttracing_test

import (
	"context"
	"log"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// Example wires a service: spans of its server and of its calls to a
// downstream service go to the seerthrift receiver, and the instrumentation's
// metrics to the service's registry. The generated Collector service stands
// in for any Thrift service.
func Example() {
	exp, err := thrifttracing.NewExporter(thrifttracing.ExporterConfig{
		Endpoint:    "localhost:6833", // the seerthrift receiver
		ServiceName: "checkout",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	tracer := thrifttracing.NewTracer("checkout", exp)
	prometheus.MustRegister(exp, tracer)

	// Server: wrap the processor, serve THeader (it also accepts framed and
	// unframed clients, but only THeader carries the trace context).
	// NewTSimpleServer is a TSimpleServer whose THeader costs a fraction of
	// thrift's; thrift.NewTSimpleServer4 with thrift's THeader transport and
	// protocol factories works too.
	var handler seerthrift.Collector // your handler
	ss, err := thrift.NewTServerSocket("127.0.0.1:9090")
	if err != nil {
		log.Fatal(err)
	}
	conf := &thrift.TConfiguration{}
	server := thrifttracing.NewTSimpleServer(tracer.WrapProcessor(seerthrift.NewCollectorProcessor(handler)), ss, conf)
	go server.Serve()

	// Client of a downstream service: THeader protocol (HeaderProtocol, or
	// thrift.NewTHeaderProtocolConf), traced middleware.
	sock := thrift.NewTSocketConf("127.0.0.1:9091", conf)
	if err := sock.Open(); err != nil {
		log.Fatal(err)
	}
	proto := thrifttracing.NewHeaderProtocol(sock, conf)
	downstream := seerthrift.NewCollectorClient(thrift.WrapClient(
		thrift.NewTStandardClient(proto, proto), tracer.ClientMiddleware("inventory")))

	// In a handler, call downstream with the handler's context: the call
	// becomes a child of the request's server span. A handler that queues
	// work first marks when a worker picks it up.
	_ = func(ctx context.Context, b *seerthrift.SpanBatch) (*seerthrift.SubmitResult_, error) {
		thrifttracing.MarkProcessingStart(ctx)
		return downstream.SubmitBatch(ctx, b)
	}
}
