package main

import (
	"strings"
	"testing"
)

func TestTrainFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--labels", "episodes"}, `--labels is "episodes", want violations or faults`},
		{[]string{"--label-kinds", "cpu"}, "--label-kinds needs --labels faults"},
		{[]string{"--ema", "1"}, "ema decay 1 must be in [0, 1)"},
		{[]string{"--ema", "-0.5"}, "ema decay -0.5 must be in [0, 1)"},
		// Valid flags get as far as reading the (missing) data.
		{[]string{"--labels", "faults", "--label-kinds", "cpu"}, "no dataset"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := runSeer(t, append([]string{"train", "--data", t.TempDir(), "--out", t.TempDir() + "/m"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCombineErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"combine", "--out", dir + "/m", "a", "b"}, "--data and --out are required"},
		{[]string{"combine", "--data", dir, "--out", dir + "/m", "a"}, "requires at least 2 arg(s)"},
		{[]string{"combine", "--data", dir, "--out", dir + "/m", dir + "/none", dir + "/none2"}, "read model"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := runSeer(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
