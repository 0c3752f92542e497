package queuedepthprocessor

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/internal/series"
)

// Resource attributes that name a service instance, in order of preference.
var instanceAttrs = []string{"service.instance.id", "k8s.pod.name", "container.id", "host.name"}

const (
	unknownService  = "unknown_service"
	unknownInstance = "unknown_instance"
)

// batch holds what one ConsumeTraces call extracted; it is pooled.
type batch struct {
	requests []series.Span // SERVER and CONSUMER spans, and CLIENT spans (Client set)
	graph    []depgraph.Span
	other    uint64 // spans that are neither (internal, producer, ...)
	future   uint64 // spans refused for ending too far in the future
	// notAfter refuses spans ending later (Unix ns); 0: no limit.
	notAfter int64
	// graphRatio is the graph's sample ratio.
	graphRatio float64
}

func (b *batch) reset() {
	b.requests = b.requests[:0]
	b.graph = b.graph[:0]
	b.other = 0
	b.future = 0
	b.notAfter = 0 // the pool is shared by processors with and without a skew limit
}

func resourceNames(attrs pcommon.Map) (service, instance string) {
	service, instance = unknownService, unknownInstance
	if v, ok := attrs.Get("service.name"); ok && v.AsString() != "" {
		service = validName(v.AsString())
	}
	for _, k := range instanceAttrs {
		if v, ok := attrs.Get(k); ok && v.AsString() != "" {
			return service, validName(v.AsString())
		}
	}
	return service, instance
}

// validName replaces the bytes of name that are not UTF-8: names become
// Prometheus label values, and pdata does not check them (a label value
// that is not UTF-8 makes the metric invalid); a caller's peer name is
// cleaned the same way, so that it still names the callee's series.
func validName(name string) string {
	if utf8.ValidString(name) {
		return name
	}
	return strings.ToValidUTF8(name, "\uFFFD")
}

func graphKind(k ptrace.SpanKind) depgraph.Kind {
	switch k {
	case ptrace.SpanKindInternal:
		return depgraph.KindInternal
	case ptrace.SpanKindServer:
		return depgraph.KindServer
	case ptrace.SpanKindClient:
		return depgraph.KindClient
	case ptrace.SpanKindProducer:
		return depgraph.KindProducer
	case ptrace.SpanKindConsumer:
		return depgraph.KindConsumer
	default:
		return depgraph.KindUnspecified
	}
}

// extract reads the spans of td into b.
func extract(td ptrace.Traces, b *batch) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		svc, inst := resourceNames(rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				start, end := int64(sp.StartTimestamp()), int64(sp.EndTimestamp())
				if b.notAfter != 0 && end > b.notAfter {
					b.future++
					continue
				}
				kind := sp.Kind()
				request := kind == ptrace.SpanKindServer || kind == ptrace.SpanKindConsumer
				trace, id := sp.TraceID(), sp.SpanID()
				if depgraph.Sampled(trace, b.graphRatio) {
					g := depgraph.Span{
						TraceID:   trace,
						SpanID:    id,
						ParentID:  sp.ParentSpanID(),
						Service:   svc,
						Operation: sp.Name(),
						Kind:      graphKind(kind),
						Start:     start,
						End:       end,
						Error:     sp.Status().Code() == ptrace.StatusCodeError,
					}
					if kind == ptrace.SpanKindClient || kind == ptrace.SpanKindProducer {
						if v, ok := sp.Attributes().Get(seerattr.PeerService); ok {
							g.PeerService = validName(v.AsString())
						}
					}
					b.graph = append(b.graph, g)
				}
				if kind == ptrace.SpanKindClient {
					// A call: joined with its SERVER span for the callee's network time.
					c := series.Span{
						Key: series.Key{Service: svc, Instance: inst}, TraceID: trace, SpanID: id,
						Client: true, Failed: sp.Status().Code() == ptrace.StatusCodeError,
						Start: start, End: end, Weight: 1, Reported: math.NaN(), NIC: math.NaN(),
					}
					readRequestAttrs(sp, &c) // the sampling weight
					if c.Failed {
						// A failed call counts in its callee, which only the caller names.
						if v, ok := sp.Attributes().Get(seerattr.PeerService); ok {
							c.Peer = validName(v.AsString())
						}
					}
					b.requests = append(b.requests, c)
					continue
				}
				if !request {
					b.other++
					continue
				}
				r := series.Span{
					Key:      series.Key{Service: svc, Instance: inst},
					TraceID:  trace,
					SpanID:   id,
					Start:    start,
					End:      end,
					Weight:   1,
					Reported: math.NaN(),
					NIC:      math.NaN(),
				}
				if kind == ptrace.SpanKindServer {
					// Its CLIENT span, to join (a CONSUMER's parent is a PRODUCER: no reply to time).
					r.ParentID = sp.ParentSpanID()
				}
				readRequestAttrs(sp, &r)
				b.requests = append(b.requests, r)
			}
		}
	}
}

// readRequestAttrs reads the queue readings and the sampling probability of
// a request (or CLIENT) span in one pass over its attributes.
func readRequestAttrs(sp ptrace.Span, r *series.Span) {
	if ts := sp.TraceState().AsRaw(); ts != "" {
		if p, ok := tracestateProbability(ts); ok {
			r.Weight = 1 / p
		}
	}
	attrs := sp.Attributes()
	if attrs.Len() == 0 {
		return
	}
	jaegerProbabilistic, jaegerParam := false, math.NaN()
	attrs.Range(func(k string, v pcommon.Value) bool {
		switch k {
		case seerattr.OutstandingRequests:
			r.Reported = number(v)
		case seerattr.NICQueueDepth:
			r.NIC = number(v)
		case "sampler.type":
			jaegerProbabilistic = v.AsString() == "probabilistic"
		case "sampler.param":
			jaegerParam = number(v)
		}
		return true
	})
	if jaegerProbabilistic && jaegerParam > 0 && jaegerParam <= 1 && r.Weight == 1 {
		r.Weight = 1 / jaegerParam
	}
}

func number(v pcommon.Value) float64 {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return float64(v.Int())
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeStr:
		if f, err := strconv.ParseFloat(v.Str(), 64); err == nil {
			return f
		}
	}
	return math.NaN()
}

// tracestateProbability returns the sampling probability recorded in the
// OpenTelemetry member of a W3C tracestate: th (rejection threshold, 1 to 14
// hex digits of a 56-bit value) or the older p (probability 2^-p).
func tracestateProbability(ts string) (float64, bool) {
	for member := range strings.SplitSeq(ts, ",") {
		member = strings.TrimSpace(member)
		ot, ok := strings.CutPrefix(member, "ot=")
		if !ok {
			continue
		}
		for kv := range strings.SplitSeq(ot, ";") {
			k, v, _ := strings.Cut(kv, ":")
			switch k {
			case "th":
				if len(v) == 0 || len(v) > 14 {
					return 0, false
				}
				t, err := strconv.ParseUint(v+strings.Repeat("0", 14-len(v)), 16, 64)
				if err != nil {
					return 0, false
				}
				p := float64((uint64(1)<<56)-t) / float64(uint64(1)<<56)
				return p, p > 0
			case "p":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 62 {
					return 0, false
				}
				return math.Exp2(-float64(n)), true
			}
		}
	}
	return 0, false
}
