package socialnetwork

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestAdminEndpoint(t *testing.T) {
	app, _ := startTestApp(t, AppConfig{})
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	in := NewInjector(app, m, quiet)
	t.Cleanup(in.Close)
	srv := httptest.NewServer(AdminHandler(in, nil))
	t.Cleanup(srv.Close)

	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	bad := []struct {
		name, body, want string
	}{
		{"not JSON", `{kind: cpu_hog`, "decode fault"},
		{"unknown field", `{"kind":"delay","service":"nginx","duration":"1s","severity":3}`, `unknown field "severity"`},
		{"trailing data", `{"kind":"delay","service":"nginx","duration":"1s"} {}`, "trailing data"},
		{"unknown kind", `{"kind":"meltdown","service":"nginx","duration":"1s"}`, `unknown kind "meltdown" (want one of cpu_hog, delay, lock_contention)`},
		{"missing kind", `{"service":"nginx","duration":"1s"}`, "kind is required"},
		{"unknown service", `{"kind":"delay","service":"mysql","duration":"1s"}`, `unknown service "mysql" (want one of`},
		{"missing service", `{"kind":"delay","duration":"1s"}`, "service is required"},
		{"missing duration", `{"kind":"delay","service":"nginx"}`, "duration 0s must be positive"},
		{"bad duration", `{"kind":"delay","service":"nginx","duration":"soon"}`, `duration "soon"`},
		{"too long", `{"kind":"delay","service":"nginx","duration":"2h"}`, "at most 1h0m0s"},
		{"negative magnitude", `{"kind":"delay","service":"nginx","duration":"1s","magnitude":-1}`, "negative"},
		{"lock held always", `{"kind":"lock_contention","service":"nginx","duration":"1s","magnitude":1}`, "fraction below 1"},
		{"fractional hog", `{"kind":"cpu_hog","service":"nginx","duration":"1s","magnitude":1.5}`, "whole number"},
		{"ramp past the end", `{"kind":"delay","service":"nginx","duration":"10s","ramp":"11s"}`, "ramp 11s must be between 0 and the duration 10s"},
		{"negative ramp", `{"kind":"delay","service":"nginx","duration":"10s","ramp":-1}`, "ramp -1s must be between 0"},
		{"bad ramp", `{"kind":"delay","service":"nginx","duration":"10s","ramp":"later"}`, `duration "later"`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(http.MethodPost, "/faults", tt.body)
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body %q is not a JSON error: %v", body, err)
			}
			if code != http.StatusBadRequest || !strings.Contains(e.Error, tt.want) {
				t.Errorf("got %d %q, want 400 with %q", code, e.Error, tt.want)
			}
		})
	}
	if got := len(in.Faults()); got != 0 {
		t.Fatalf("%d faults injected by bad requests", got)
	}

	// A good one: injected, listed, active in the metrics, removed.
	code, body := do(http.MethodPost, "/faults", `{"kind":"cpu_hog","service":"user-memcached","duration":30,"ramp":"10s"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %s", code, body)
	}
	var f Fault
	if err := json.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Kind != FaultCPUHog || f.Service != UserMC || time.Duration(f.Duration) != 30*time.Second ||
		time.Duration(f.Ramp) != 10*time.Second || f.Magnitude != 4 || !f.Active || f.Source != "admin" || f.End.Sub(f.Start) != 30*time.Second {
		t.Errorf("created %+v", f)
	}
	labels := map[string]string{"kind": FaultCPUHog, "service": UserMC}
	if got := gaugeValue(t, reg, MetricFaultActive, labels); got != 1 {
		t.Errorf("%s = %v, want 1", MetricFaultActive, got)
	}
	code, body = do(http.MethodGet, "/faults", "")
	var list []Fault
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list) != 1 || list[0].ID != f.ID ||
		time.Duration(list[0].Ramp) != 10*time.Second {
		t.Errorf("GET: %d %s (%v)", code, body, err)
	}
	code, body = do(http.MethodDelete, "/faults/"+f.ID, "")
	var removed Fault
	if err := json.Unmarshal([]byte(body), &removed); code != http.StatusOK || err != nil || removed.Active || !removed.End.Before(f.End) {
		t.Errorf("DELETE: %d %s (%v)", code, body, err)
	}
	if got := gaugeValue(t, reg, MetricFaultActive, labels); got != 0 {
		t.Errorf("%s = %v after DELETE, want 0", MetricFaultActive, got)
	}
	if code, body := do(http.MethodDelete, "/faults/nope", ""); code != http.StatusNotFound {
		t.Errorf("DELETE of an unknown fault: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "/violations", ""); code != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Errorf("GET /violations: %d %s", code, body)
	}
}
