package main

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/bingli/bingli/core/model/tagger"
)

// plotCurve draws training loss and dev F1 per epoch into a PNG.
func plotCurve(path string, hist []tagger.EpochStats) error {
	if len(hist) == 0 {
		return fmt.Errorf("no epochs to plot")
	}
	loss := make(plotter.XYs, len(hist))
	f1 := make(plotter.XYs, len(hist))
	maxLoss := 0.0
	for i, h := range hist {
		maxLoss = max(maxLoss, h.TrainLoss)
		loss[i] = plotter.XY{X: float64(h.Epoch), Y: h.TrainLoss}
		f1[i] = plotter.XY{X: float64(h.Epoch), Y: 100 * h.DevF1}
	}
	// Loss is drawn scaled to the F1 axis (0–100) so one plot holds both.
	for i := range loss {
		loss[i].Y = 100 * loss[i].Y / max(maxLoss, 1e-9)
	}
	p := plot.New()
	p.Title.Text = "bingli train"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = fmt.Sprintf("dev F1 (%%) / train loss (%% of %.2f)", maxLoss)
	p.Y.Min, p.Y.Max = 0, 100
	p.Add(plotter.NewGrid())
	// Lines with point marks, so a run of one epoch still shows.
	l1, p1, err := plotter.NewLinePoints(f1)
	if err != nil {
		return err
	}
	l2, p2, err := plotter.NewLinePoints(loss)
	if err != nil {
		return err
	}
	l2.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p2.Shape = draw.BoxGlyph{}
	p.Add(l1, p1, l2, p2)
	p.Legend.Add("dev F1", l1)
	p.Legend.Add("train loss", l2)
	p.Legend.Top = true
	return p.Save(16*vg.Centimeter, 10*vg.Centimeter, path)
}
