package seerpredictorextension

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/predictor"
)

// workerEnv names the job directory in the environment of a training
// process: the Collector (or any binary that links this package, such as
// its test binary) started with it set runs that one job and exits instead
// of starting (see init).
const workerEnv = "SEER_PREDICTOR_TRAINING_JOB"

// Files of a job directory.
const (
	jobFile    = "job.gob"    // jobSpec, written by the Collector
	baseFile   = "base.model" // the serving model, when there is one
	modelFile  = "model"      // the trained model, when accepted
	resultFile = "result.gob" // jobResult, written by the training process
)

// jobSpec is what a training process is given.
type jobSpec struct {
	Kind     string
	Ticks    []predictor.RawTick
	Services []string
	Edges    []dataset.Edge
	Cfg      RetrainingConfig
	Backend  string
	HasBase  bool
}

// jobResult is what a training process answers (gob: the losses may be
// NaN, which JSON cannot hold).
type jobResult struct {
	Outcome          string
	NewLoss, RefLoss float64
	Err              string
}

func init() {
	if dir := os.Getenv(workerEnv); dir != "" {
		os.Exit(workerMain(dir))
	}
}

// workerMain runs the job in dir and writes its result; the exit code is
// non-zero only when no result could be written.
func workerMain(dir string) int {
	// First, before the backend starts its threads: they inherit it.
	if err := lowerPriority(); err != nil {
		fmt.Fprintf(os.Stderr, "seerpredictor training: cannot lower the priority: %v\n", err)
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(runSpec(dir))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, resultFile), buf.Bytes(), 0o600)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "seerpredictor training: write result: %v\n", err)
		return 1
	}
	return 0
}

func runSpec(dir string) jobResult {
	failed := func(err error) jobResult { return jobResult{Outcome: outcomeFailed, Err: err.Error()} }
	data, err := os.ReadFile(filepath.Join(dir, jobFile))
	if err != nil {
		return failed(fmt.Errorf("read job: %w", err))
	}
	var spec jobSpec
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&spec); err != nil {
		return failed(fmt.Errorf("decode job: %w", err))
	}
	var base *predictor.Model
	if spec.HasBase {
		if base, err = predictor.LoadModel(filepath.Join(dir, baseFile)); err != nil {
			return failed(err)
		}
	}
	m, res, err := train(context.Background(), spec, base)
	if err != nil {
		res.Outcome, res.Err = outcomeFailed, err.Error()
		return res
	}
	if res.Outcome == outcomeAccepted {
		if err := m.Save(filepath.Join(dir, modelFile)); err != nil {
			return failed(err)
		}
	}
	return res
}

// runWorker writes spec into dir, runs a training process on it and reads
// its result. Cancelling ctx kills the process; g pauses it while serving
// runs an inference.
func runWorker(ctx context.Context, dir string, spec jobSpec, g *gate) (jobResult, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(spec); err != nil {
		return jobResult{}, fmt.Errorf("encode job: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, jobFile), buf.Bytes(), 0o600); err != nil {
		return jobResult{}, fmt.Errorf("write job: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return jobResult{}, fmt.Errorf("find this executable: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), workerEnv+"="+dir)
	cmd.SysProcAttr = workerProcAttr()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		return jobResult{}, fmt.Errorf("start the training process: %w", err)
	}
	g.set(cmd.Process)
	err = cmd.Wait()
	g.set(nil)
	if err != nil {
		if ctx.Err() != nil {
			return jobResult{}, ctx.Err()
		}
		return jobResult{}, fmt.Errorf("training process: %w: %s", err, tail(stderr.Bytes(), 2048))
	}
	data, err := os.ReadFile(filepath.Join(dir, resultFile))
	if err != nil {
		return jobResult{}, fmt.Errorf("training process left no result: %w: %s", err, tail(stderr.Bytes(), 2048))
	}
	var res jobResult
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&res); err != nil {
		return jobResult{}, fmt.Errorf("decode training result: %w", err)
	}
	return res, nil
}

// tail returns the last n bytes of b, for error messages.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
