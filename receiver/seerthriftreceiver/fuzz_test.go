package seerthriftreceiver

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/receiver/seerthriftreceiver/internal/metadata"
)

// Fuzzers run as regression tests over their seeds and testdata/fuzz on
// every go test; explore with, for example,
//
//	go test -run '^$' -fuzz FuzzDecodeBatchBinary -fuzztime 1m ./receiver/seerthriftreceiver/

// seedBatches adds valid, invalid and cut-short batches in protoName.
func seedBatches(f *testing.F, protoName string) {
	for _, n := range []int{0, 1, 3} {
		b := serialize(f, protoName, testBatch(n))
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	for _, tt := range invalidBatches[:4] {
		b := testBatch(2)
		tt.edit(b)
		f.Add(serialize(f, protoName, b))
	}
	f.Add(hugeList(f, protoName, 1<<30))
}

// outcome classes a decode result, so that the two readers can be compared.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, errInvalidBatch):
		return "invalid"
	case errors.Is(err, errMalformed):
		return "malformed"
	}
	return "unclassified: " + err.Error()
}

// checkDecoders decodes data with both readers: they must not panic, must
// class every error, and must agree on the outcome and on the spans.
func checkDecoders(t *testing.T, protoName string, data []byte) {
	fast, _, fastErr := decodeBytes(protoName, data)
	slow, _, slowErr := decodeProto(protoName, data)
	require.NotContains(t, outcome(fastErr), "unclassified")
	require.NotContains(t, outcome(slowErr), "unclassified")
	// The thrift library skips some garbage the bytes reader refuses
	// (it is laxer on types inside unknown fields), which may then leave a
	// required field missing: the bytes reader may say malformed where the
	// library says invalid. Any other difference is a bug.
	if !(outcome(fastErr) == "malformed" && outcome(slowErr) == "invalid") {
		require.Equal(t, outcome(slowErr), outcome(fastErr), "bytes reader: %v; thrift protocol: %v", fastErr, slowErr)
	}
	if fastErr != nil {
		return
	}
	m := ptrace.ProtoMarshaler{}
	fb, err := m.MarshalTraces(fast)
	require.NoError(t, err)
	sb, err := m.MarshalTraces(slow)
	require.NoError(t, err)
	require.Equal(t, sb, fb, "the two readers decoded different spans")
}

func FuzzDecodeBatchBinary(f *testing.F) {
	seedBatches(f, "binary")
	f.Fuzz(func(t *testing.T, data []byte) { checkDecoders(t, "binary", data) })
}

func FuzzDecodeBatchCompact(f *testing.F) {
	seedBatches(f, "compact")
	f.Fuzz(func(t *testing.T, data []byte) { checkDecoders(t, "compact", data) })
}

// FuzzHTTPBody posts bodies to the handler: the answer is 200 exactly when
// the body decodes, 400 otherwise, and never a server error.
func FuzzHTTPBody(f *testing.F) {
	for _, protoName := range protocols {
		b := serialize(f, protoName, testBatch(2))
		f.Add(b, protoName == "compact")
		f.Add(b[:len(b)-1], protoName == "compact")
	}
	tel := componenttest.NewTelemetry()
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	require.NoError(f, err)
	tr, err := newTransport("http", set, tb, defaultRetryAfter)
	require.NoError(f, err)
	h := &httpHandler{t: tr, next: consumertest.NewNop(), logger: zap.NewNop()}

	f.Fuzz(func(t *testing.T, body []byte, compact bool) {
		contentType, protoName := contentTypeBinary, "binary"
		if compact {
			contentType, protoName = contentTypeCompact, "compact"
		}
		req := httptest.NewRequest(http.MethodPost, "/api/spans", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		_, _, decErr := decodeBytes(protoName, body)
		if decErr == nil {
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		} else {
			require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
		}
	})
}

// FuzzTCPStream feeds a byte stream to one TCP connection: the connection
// must end (no hang, no panic) once the peer closes it, whatever it sent.
func FuzzTCPStream(f *testing.F) {
	for _, protoName := range protocols {
		msg := submitMessage(f, protoName, testBatch(2))
		f.Add(frame(msg))
		f.Add(append(frame(msg), frame(msg)...))
		f.Add(frame(msg[:len(msg)-5]))
		f.Add(msg) // unframed
	}
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))

	set := receivertest.NewNopSettings(metadata.Type)
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	require.NoError(f, err)
	tr, err := newTransport("tcp", set, tb, defaultRetryAfter)
	require.NoError(f, err)
	cfg := &TCPConfig{MaxFrameSize: 64 << 10}
	s := newTCPServer(nil, cfg, tr, consumertest.NewNop(), zap.NewNop())

	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveConn(server)
		}()
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			_, _ = io.Copy(io.Discard, client)
		}()
		_, _ = client.Write(data)
		_ = client.Close()
		<-done
		<-drained
	})
}
