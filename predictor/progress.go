package predictor

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar with the running loss and an ETA
// on a terminal-like writer (nil: silent).
type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

// update redraws at most every 200 ms unless final; done/total counts
// batches over the whole run.
func (p *progress) update(epoch, epochs, done, total int, loss float64, final bool) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if !final && now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	frac := float64(done) / float64(max(total, 1))
	const width = 30
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	eta := "?"
	if done > 0 {
		eta = (time.Duration(float64(now.Sub(p.start)) / frac * (1 - frac))).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\repoch %d/%d [%s] %3.0f%% loss %.4f ETA %s   ", epoch, epochs, bar, frac*100, loss, eta)
	if final {
		fmt.Fprintln(p.w)
	}
}
