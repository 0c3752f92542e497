package seerthriftreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/seer-qos/seer/idl/seerthrift"
)

func post(t *testing.T, url, contentType string, body []byte, header ...string) (*http.Response, []byte) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, out
}

func TestHTTPContentTypes(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, nil)
	tests := []struct{ contentType, proto string }{
		{contentTypeBinary, "binary"},
		{contentTypeThrift, "binary"},
		{contentTypeCompact, "compact"},
		{contentTypeCompact + "; charset=binary", "compact"},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			sink.Reset()
			batch := testBatch(4)
			batch.DroppedSpans = i64(2)
			before := r.metricSum(t, droppedMetric, "transport=http")
			acceptedBefore := r.metricSum(t, acceptedMetric, "transport=http")
			resp, body := post(t, r.httpURL(), tt.contentType, serialize(t, tt.proto, batch))
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

			var res seerthrift.SubmitResult_
			require.NoError(t, res.Read(context.Background(), newTestProtocol(tt.proto, memBuffer(body))))
			assert.Equal(t, int32(4), res.AcceptedSpans)
			assert.Equal(t, 4, sink.SpanCount())
			want, _, err := decodeBytes("binary", serialize(t, "binary", batch))
			require.NoError(t, err)
			assertSameSpans(t, want, sink.AllTraces()[0])
			assert.Equal(t, before+2, r.metricSum(t, droppedMetric, "transport=http"))
			assert.Equal(t, acceptedBefore+4, r.metricSum(t, acceptedMetric, "transport=http"))
		})
	}
}

func TestHTTPGzip(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, nil)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err := w.Write(serialize(t, "compact", testBatch(3)))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	resp, body := post(t, r.httpURL(), contentTypeCompact, gz.Bytes(), "Content-Encoding", "gzip")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, 3, sink.SpanCount())
}

func TestHTTPErrors(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, func(cfg *Config) {
		cfg.Protocols.HTTP.Get().MaxRequestBodySize = 16 << 10
	})
	invalid := testBatch(2)
	invalid.Spans[0].TraceID = []byte{1}
	valid := serialize(t, "binary", testBatch(2))

	tests := []struct {
		name        string
		method      string
		contentType string
		body        []byte
		status      int
		reason      string
		msg         string
	}{
		{"GET", http.MethodGet, contentTypeBinary, nil, http.StatusMethodNotAllowed, "", "method GET not allowed"},
		{"json", http.MethodPost, "application/json", valid, http.StatusUnsupportedMediaType, reasonMediaType, "unsupported Content-Type"},
		{"garbage", http.MethodPost, contentTypeBinary, []byte("garbage garbage"), http.StatusBadRequest, reasonDecode, "malformed thrift data"},
		{"truncated", http.MethodPost, contentTypeBinary, valid[:len(valid)-3], http.StatusBadRequest, reasonDecode, "malformed thrift data"},
		{"compact body as binary", http.MethodPost, contentTypeBinary, serialize(t, "compact", testBatch(2)), http.StatusBadRequest, reasonDecode, "malformed thrift data"},
		{"trailing bytes", http.MethodPost, contentTypeBinary, append(bytes.Clone(valid), 1), http.StatusBadRequest, reasonDecode, "1 bytes after the SpanBatch"},
		{"huge list", http.MethodPost, contentTypeCompact, hugeList(t, "compact", 1<<30), http.StatusBadRequest, reasonDecode, "malformed thrift data"},
		{"invalid batch", http.MethodPost, contentTypeBinary, serialize(t, "binary", invalid), http.StatusBadRequest, reasonInvalidBatch, "trace_id has 1 bytes"},
		{"too large", http.MethodPost, contentTypeBinary, serialize(t, "binary", testBatch(200)), http.StatusRequestEntityTooLarge, reasonTooLarge, "request body larger than 16384 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := r.metricSum(t, malformedMetric, "transport=http", "reason="+tt.reason)
			req, err := http.NewRequestWithContext(context.Background(), tt.method, r.httpURL(), bytes.NewReader(tt.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", tt.contentType)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Contains(t, string(body), tt.msg)
			if tt.reason != "" {
				assert.Equal(t, before+1, r.metricSum(t, malformedMetric, "transport=http", "reason="+tt.reason))
			}
		})
	}
	assert.Equal(t, 0, sink.SpanCount())
}

func TestHTTPBackpressure(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"permanent error is 400", consumererror.NewPermanent(errors.New("bad data downstream")), http.StatusBadRequest, ""},
		{"other error is 503 with Retry-After", errors.New("queue is full"), http.StatusServiceUnavailable, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startReceiver(t, consumertest.NewErr(tt.err), func(cfg *Config) { cfg.RetryAfter = 1500e6 })
			resp, body := post(t, r.httpURL(), contentTypeBinary, serialize(t, "binary", testBatch(2)))
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.retryAfter, resp.Header.Get("Retry-After"))
			assert.Contains(t, string(body), tt.err.Error())
		})
	}
}
