package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/otelcol"
)

// wantComponents is what otelcol-seer promises its users, by kind.
var wantComponents = map[string][]string{
	"receivers":  {"otlp", "jaeger", "seerthrift"},
	"processors": {"batch", "memory_limiter"},
	"exporters":  {"debug", "prometheus"},
	"extensions": {"file_storage", "health_check", "seerpredictor"},
}

func TestComponentsAreRegistered(t *testing.T) {
	factories, err := components()
	if err != nil {
		t.Fatalf("components: %v", err)
	}
	have := map[string]map[component.Type]bool{
		"receivers":  keys(factories.Receivers),
		"processors": keys(factories.Processors),
		"exporters":  keys(factories.Exporters),
		"extensions": keys(factories.Extensions),
	}
	for kind, names := range wantComponents {
		for _, name := range names {
			if !have[kind][component.MustNewType(name)] {
				t.Errorf("%s: %q is not registered", kind, name)
			}
		}
	}
	if factories.Telemetry == nil {
		t.Error("no telemetry factory: the collector refuses to start without one")
	}
}

func keys[F any](m map[component.Type]F) map[component.Type]bool {
	out := make(map[component.Type]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// runCommand runs the otelcol-seer command line in process and returns its output.
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := otelcol.NewCommand(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "otelcol-seer", Version: "test"},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				ProviderFactories: []confmap.ProviderFactory{envprovider.NewFactory(), fileprovider.NewFactory()},
			},
		},
	})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestComponentsCommandListsSeerComponents(t *testing.T) {
	out, err := runCommand(t, "components")
	if err != nil {
		t.Fatalf("components: %v\n%s", err, out)
	}
	for _, names := range wantComponents {
		for _, name := range names {
			if !strings.Contains(out, "name: "+name+"\n") {
				t.Errorf("`otelcol-seer components` does not list %q:\n%s", name, out)
			}
		}
	}
}

func TestValidateDefaultConfig(t *testing.T) {
	out, err := runCommand(t, "validate", "--config", "config.yaml")
	if err != nil {
		t.Fatalf("validate config.yaml: %v\n%s", err, out)
	}
}

func TestValidateRejectsUnknownComponent(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	cfg := "receivers:\n  nosuchreceiver:\nexporters:\n  debug:\nservice:\n  pipelines:\n    traces:\n      receivers: [nosuchreceiver]\n      exporters: [debug]\n"
	if err := os.WriteFile(bad, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, "validate", "--config", bad)
	if err == nil {
		t.Fatalf("validate accepted an unknown receiver:\n%s", out)
	}
}
