package predictor

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/seer-qos/seer/dataset"
)

// DefaultPlotPanels is how many faults PlotFaults draws at most by default:
// beyond a dozen stacked panels the PNG gets too tall to read on a screen.
const DefaultPlotPanels = 12

// plotRatioCap bounds the y axis: a p99 of 30x its target would otherwise
// squash the probabilities into the bottom of the panel.
const plotRatioCap = 2.5

// PlotOptions are the settings of PlotFaults; zero values take the defaults.
type PlotOptions struct {
	// Threshold is Seer's warning threshold, drawn as a dashed line.
	Threshold float64
	// MaxPanels caps the faults drawn (the first ones in trace order, then
	// start order); 0: DefaultPlotPanels.
	MaxPanels int
	// BeforeNs and AfterNs widen each timeline before the fault's start and
	// after its end; 0: 30 s each.
	BeforeNs, AfterNs int64
	// Kinds limits the panels to faults of these kinds; empty: all.
	Kinds []string
	// WidthPx and PanelHeightPx size the PNG: WidthPx x
	// (panels x PanelHeightPx); 0: 1200 and 320.
	WidthPx, PanelHeightPx int
}

func (o *PlotOptions) defaults() {
	if o.MaxPanels <= 0 {
		o.MaxPanels = DefaultPlotPanels
	}
	if o.BeforeNs <= 0 {
		o.BeforeNs = 30e9
	}
	if o.AfterNs <= 0 {
		o.AfterNs = 30e9
	}
	if o.WidthPx <= 0 {
		o.WidthPx = 1200
	}
	if o.PanelHeightPx <= 0 {
		o.PanelHeightPx = 320
	}
}

// PlotResult says what PlotFaults drew: Panels of Faults faults.
type PlotResult struct {
	Panels, Faults int
}

// plotDPI is the resolution of the PNG; sizes are given in pixels.
const plotDPI = 96

// pxLen converts pixels at plotDPI to a vg length (points).
func pxLen(px int) vg.Length { return vg.Length(px) * vg.Inch / plotDPI }

// LoadQoS reads the end-to-end latency points (qos.csv) of the dataset a
// trace was loaded from; nil when the dataset has none (replays).
func LoadQoS(tr *Trace) ([]dataset.QoSPoint, error) {
	d, err := dataset.Open(tr.Dir)
	if err != nil {
		return nil, fmt.Errorf("predictor: qos of %s: %w", tr.Dir, err)
	}
	q, err := d.QoS()
	if err != nil {
		return nil, fmt.Errorf("predictor: qos of %s: %w", tr.Dir, err)
	}
	return q, nil
}

// PlotFaults writes a PNG with one panel per fault (stacked, at most
// o.MaxPanels): on a timeline in seconds from the fault's start, Seer's
// culprit probability for the fault's service, Seer's end-to-end violation
// probability, the worst request type's sliding-window p99 divided by its
// QoS target (from qos, one slice per trace, may be nil), the warning
// threshold, the fault's active interval and the violation intervals
// (shaded). preds are the model's predictions on traces (same order).
func PlotFaults(w io.Writer, traces []*Trace, preds []*Predictions, qos [][]dataset.QoSPoint, o PlotOptions) (PlotResult, error) {
	o.defaults()
	if len(preds) != len(traces) {
		return PlotResult{}, fmt.Errorf("predictor: plot: %d predictions for %d traces", len(preds), len(traces))
	}
	type panel struct {
		tr    int
		fault dataset.Fault
	}
	var all []panel
	for i, tr := range traces {
		for _, f := range tr.Faults {
			if len(o.Kinds) == 0 || slices.Contains(o.Kinds, f.Kind) {
				all = append(all, panel{i, f})
			}
		}
	}
	if len(all) == 0 {
		return PlotResult{}, fmt.Errorf("predictor: plot: the traces have no faults (of kinds %v)", o.Kinds)
	}
	res := PlotResult{Panels: min(len(all), o.MaxPanels), Faults: len(all)}
	rows := make([][]*plot.Plot, res.Panels)
	legends := make([]plot.Legend, res.Panels)
	for i, pn := range all[:res.Panels] {
		var q []dataset.QoSPoint
		if qos != nil {
			q = qos[pn.tr]
		}
		p, err := faultPanel(traces[pn.tr], preds[pn.tr], q, pn.fault, o, &legends[i])
		if err != nil {
			return PlotResult{}, err
		}
		p.Title.Text = fmt.Sprintf("fault %d/%d: %s on %s (%s)", i+1, res.Faults, pn.fault.Kind, pn.fault.Service, pn.fault.ID)
		if res.Panels < res.Faults && i == 0 {
			p.Title.Text += fmt.Sprintf("; first %d of %d faults shown", res.Panels, res.Faults)
		}
		rows[i] = []*plot.Plot{p}
	}
	img := vgimg.NewWith(vgimg.UseWH(pxLen(o.WidthPx), pxLen(o.PanelHeightPx*res.Panels)), vgimg.UseDPI(plotDPI))
	dc := draw.New(img)
	dc.SetColor(color.White) // an opaque background, not transparent
	dc.Fill(dc.Rectangle.Path())
	// The legends get a strip of their own on the right: inside the plot
	// they would hide the lines.
	legendW := pxLen(min(360, o.WidthPx/3))
	tiles := draw.Tiles{Rows: res.Panels, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(12)}
	canvases := plot.Align(rows, tiles, draw.Crop(dc, 0, -legendW, 0, 0))
	strip := draw.Crop(dc, dc.Size().X-legendW, 0, 0, 0)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
		lc := tiles.At(strip, 0, i)
		legends[i].Draw(draw.Crop(lc, 0, 0, 0, -vg.Points(20)))
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return PlotResult{}, fmt.Errorf("predictor: plot: write png: %w", err)
	}
	return res, nil
}

var (
	// NRGBA: the bands are translucent (RGBA would be premultiplied).
	colCulprit   = color.NRGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colViolation = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colP99       = color.NRGBA{R: 0x33, G: 0x33, B: 0x33, A: 0xff}
	colThreshold = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colFaultBand = color.NRGBA{R: 0x99, G: 0x99, B: 0x99, A: 0x40}
	colViolBand  = color.NRGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0x55}
)

// faultPanel draws one fault's timeline.
// Its legend goes to leg, drawn apart by the caller.
func faultPanel(tr *Trace, pr *Predictions, q []dataset.QoSPoint, f dataset.Fault, o PlotOptions, leg *plot.Legend) (*plot.Plot, error) {
	lo := max(f.StartNs-o.BeforeNs, tr.StartNs)
	hi := min(f.EndNs()+o.AfterNs, tr.TickEndNs(tr.Ticks-1))
	sec := func(ns int64) float64 { return float64(ns-f.StartNs) / 1e9 }
	p := plot.New()
	p.X.Label.Text = "seconds from fault start"
	p.Y.Label.Text = "probability; p99 / target"
	p.X.Min, p.X.Max = sec(lo), sec(hi)
	p.X.Tick.Marker = secondsTicks{}
	*leg = plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.XOffs = vg.Points(4)
	leg.TextStyle.Font.Size = vg.Points(10)
	leg.Padding = vg.Points(3) // room for the two-line entries
	p.Add(plotter.NewGrid())

	culprit := slices.Index(pr.Services, f.Service)
	nS := len(pr.Services)
	var cul, vio plotter.XYs
	for t := range tr.Ticks {
		end := tr.TickEndNs(t)
		if end < lo || end > hi || t >= len(pr.Probs) || allZero(pr.Probs[t]) {
			continue // outside the panel, or no full window yet
		}
		x := sec(end)
		vio = append(vio, plotter.XY{X: x, Y: float64(pr.Probs[t][nS])})
		if culprit >= 0 {
			cul = append(cul, plotter.XY{X: x, Y: float64(pr.Probs[t][culprit])})
		}
	}
	ratio := worstP99Ratio(q, lo, hi, f.StartNs)
	ymax := 1.05
	for _, r := range ratio {
		ymax = max(ymax, min(r.Y*1.05, plotRatioCap))
	}
	p.Y.Min, p.Y.Max = 0, ymax

	band := func(from, to int64, c color.Color) (*plotter.Polygon, error) {
		a, b := sec(max(from, lo)), sec(min(to, hi))
		poly, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: 0}, {X: b, Y: 0}, {X: b, Y: ymax}, {X: a, Y: ymax}})
		if err != nil {
			return nil, fmt.Errorf("predictor: plot: %w", err)
		}
		poly.Color, poly.LineStyle.Width = c, 0
		return poly, nil
	}
	fb, err := band(f.StartNs, f.EndNs(), colFaultBand)
	if err != nil {
		return nil, err
	}
	p.Add(fb)
	leg.Add("fault active", fb)
	var vb *plotter.Polygon
	for _, v := range tr.Episodes() { // merged: overlapping bands would darken
		if v.EndNs < lo || v.StartNs > hi {
			continue
		}
		if vb, err = band(v.StartNs, v.EndNs, colViolBand); err != nil {
			return nil, err
		}
		p.Add(vb)
	}
	if vb != nil {
		leg.Add("QoS violation", vb)
	}

	addLine := func(xy plotter.XYs, c color.Color, width vg.Length, dashes []vg.Length, name string) error {
		if len(xy) == 0 {
			return nil
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("predictor: plot: %w", err)
		}
		l.Color, l.Width, l.Dashes = c, width, dashes
		p.Add(l)
		leg.Add(name, l)
		return nil
	}
	if o.Threshold > 0 {
		th := plotter.XYs{{X: sec(lo), Y: o.Threshold}, {X: sec(hi), Y: o.Threshold}}
		if err := addLine(th, colThreshold, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(3)},
			fmt.Sprintf("warning threshold %.3f", o.Threshold)); err != nil {
			return nil, err
		}
	}
	if err := addLine(ratio, colP99, vg.Points(1), nil, fmt.Sprintf("end-to-end p99 / QoS target\n(worst request type, capped at %g)", plotRatioCap)); err != nil {
		return nil, err
	}
	if err := addLine(vio, colViolation, vg.Points(1.5), nil, "seer: P(end-to-end violation\nwithin the horizon)"); err != nil {
		return nil, err
	}
	name := "seer: P(" + f.Service + " is the culprit)"
	if culprit < 0 {
		name = f.Service + " is unknown to the model: no culprit probability"
		// An empty line still names the service in the legend.
		l := &plotter.Line{LineStyle: draw.LineStyle{Color: colCulprit, Width: vg.Points(1.5)}}
		leg.Add(name, l)
	}
	if err := addLine(cul, colCulprit, vg.Points(1.5), nil, name); err != nil {
		return nil, err
	}
	if q == nil {
		leg.Add("(no qos.csv: no end-to-end p99)")
	}
	return p, nil
}

// worstP99Ratio returns, per tick end in [lo, hi] (x: seconds from
// origin), the largest p99/target over the request types that have a target
// (capped at plotRatioCap).
func worstP99Ratio(q []dataset.QoSPoint, lo, hi, origin int64) plotter.XYs {
	var out plotter.XYs
	idx := map[int64]int{}
	for _, pt := range q {
		if pt.EndNs < lo || pt.EndNs > hi || pt.TargetNs <= 0 {
			continue
		}
		r := math.Min(float64(pt.P99Ns)/float64(pt.TargetNs), plotRatioCap)
		if i, ok := idx[pt.EndNs]; ok {
			out[i].Y = math.Max(out[i].Y, r)
			continue
		}
		idx[pt.EndNs] = len(out)
		out = append(out, plotter.XY{X: float64(pt.EndNs-origin) / 1e9, Y: r})
	}
	return out
}

// secondsTicks marks whole seconds at a round step (0 always among them,
// the fault's start): the default ticker's -25.00/0.00/25.00 hid it.
type secondsTicks struct{}

// Ticks implements plot.Ticker.
func (secondsTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 5.0
	for _, s := range []float64{10, 20, 30, 60, 120, 300, 600} {
		if (hi-lo)/step <= 12 {
			break
		}
		step = s
	}
	var out []plot.Tick
	for k := math.Ceil(lo / step); k*step <= hi; k++ {
		x := k*step + 0 // + 0: no "-0"
		out = append(out, plot.Tick{Value: x, Label: fmt.Sprintf("%.0f", x)})
	}
	return out
}

func allZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
