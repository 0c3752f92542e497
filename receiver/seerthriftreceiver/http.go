package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// Content types of an HTTP batch.
const (
	contentTypeBinary  = "application/vnd.apache.thrift.binary"
	contentTypeThrift  = "application/x-thrift" // binary protocol
	contentTypeCompact = "application/vnd.apache.thrift.compact"
)

// httpHandler takes one serialized SpanBatch per POST.
type httpHandler struct {
	t      *transport
	next   consumer.Traces
	logger *zap.Logger
}

// bodyPool recycles request body buffers.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// httpConf bounds what the thrift protocols read from a body. The body size
// is bounded by max_request_body_size already, and the memory buffer knows
// how many bytes remain, so declared sizes cannot exceed the body.
var httpConf = &thrift.TConfiguration{}

// protocolOf returns the thrift protocol of a Content-Type, or "" when
// the type is not one of ours.
func protocolOf(contentType string) string {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mediaType {
	case contentTypeBinary, contentTypeThrift:
		return "binary"
	case contentTypeCompact:
		return "compact"
	}
	return ""
}

// newProtocol returns the thrift protocol called name over trans.
func newProtocol(name string, trans thrift.TTransport) thrift.TProtocol {
	if name == "compact" {
		return thrift.NewTCompactProtocolConf(trans, httpConf)
	}
	return thrift.NewTBinaryProtocolConf(trans, httpConf)
}

// ServeHTTP takes one batch.
func (h *httpHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed, use POST", req.Method))
		return
	}
	protoName := protocolOf(req.Header.Get("Content-Type"))
	if protoName == "" {
		h.t.malformed(ctx, reasonMediaType)
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf(
			"unsupported Content-Type %q, use %s, %s or %s",
			req.Header.Get("Content-Type"), contentTypeBinary, contentTypeThrift, contentTypeCompact))
		return
	}

	buf := bodyPool.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		bodyPool.Put(buf)
	}()
	if _, err := buf.ReadFrom(req.Body); err != nil {
		if maxErr := (*http.MaxBytesError)(nil); errors.As(err, &maxErr) {
			h.t.malformed(ctx, reasonTooLarge)
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxErr.Limit))
			return
		}
		h.t.malformed(ctx, reasonDecode)
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}

	n, err := h.t.receive(ctx, h.next, func(td ptrace.Traces) (batchMeta, error) {
		return decodeBody(protoName, buf.Bytes(), td)
	})
	switch {
	case err == nil:
		h.writeResult(ctx, w, protoName, n)
	case consumererror.IsPermanent(err):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		w.Header().Set("Retry-After", strconv.FormatInt(h.t.retryAfterSeconds(), 10))
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

// wirePool recycles body readers, with their interned names.
var wirePool = sync.Pool{New: func() any { return newBytesWire(false) }}

// decodeBody decodes a body holding exactly one SpanBatch.
func decodeBody(protoName string, body []byte, td ptrace.Traces) (batchMeta, error) {
	w := wirePool.Get().(*bytesWire)
	defer wirePool.Put(w)
	w.compact = protoName == "compact"
	w.reset(body)
	meta, err := decodeBatch(w, td)
	if err != nil {
		return meta, err
	}
	if n := w.remaining(); n != 0 {
		return meta, malformedf("%d bytes after the SpanBatch", n)
	}
	return meta, nil
}

func (h *httpHandler) writeResult(ctx context.Context, w http.ResponseWriter, protoName string, n int) {
	out := thrift.NewTMemoryBufferLen(16)
	res := seerthrift.SubmitResult_{AcceptedSpans: int32(n)}
	if err := res.Write(ctx, newProtocol(protoName, out)); err != nil {
		h.logger.Error("Encoding SubmitResult failed", zap.Error(err))
		w.WriteHeader(http.StatusOK)
		return
	}
	if protoName == "compact" {
		w.Header().Set("Content-Type", contentTypeCompact)
	} else {
		w.Header().Set("Content-Type", contentTypeBinary)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}
