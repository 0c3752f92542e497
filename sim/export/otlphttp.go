package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// OTLPHTTP posts traces to an OTLP/HTTP endpoint.
type OTLPHTTP struct {
	url    string
	client *http.Client
}

// NewOTLPHTTP returns an exporter for endpoint ("http://host:4318"; the
// path /v1/traces is added when the endpoint has none).
func NewOTLPHTTP(endpoint string) *OTLPHTTP {
	u := strings.TrimRight(endpoint, "/")
	if !strings.Contains(strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://"), "/") {
		u += "/v1/traces"
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = "http://" + u
	}
	return &OTLPHTTP{url: u, client: &http.Client{Timeout: 30 * time.Second}}
}

// Send posts one batch.
func (o *OTLPHTTP) Send(td ptrace.Traces) error {
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		return fmt.Errorf("otlp export: %w", err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, o.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("otlp export: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("otlp export to %s: %w", o.url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("otlp export to %s: %s: %s", o.url, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
