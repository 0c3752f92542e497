//go:build !unix

package seerpredictorextension

import "os"

// gate is a no-op without POSIX signals: training is not paused for
// inference there.
type gate struct{}

func (g *gate) set(*os.Process) {}
func (g *gate) active() bool    { return false }
func (g *gate) hold()           {}
func (g *gate) release()        {}
