package nn

import (
	"fmt"
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// Schedule returns the learning rate of optimizer step s = 1, 2, ... (the
// first update is step 1).
type Schedule func(step int) float32

// Constant is the schedule lr at every step.
func Constant(lr float32) Schedule {
	return func(int) float32 { return lr }
}

// LinearWarmupDecay rises linearly from peak/warmup at step 1 to peak at
// step warmup, then falls linearly to 0 at step total (and stays 0 after).
// warmup = 0 starts at peak.
func LinearWarmupDecay(peak float32, warmup, total int) (Schedule, error) {
	if err := checkSchedule(warmup, total); err != nil {
		return nil, err
	}
	return func(s int) float32 {
		if s <= warmup {
			return peak * float32(s) / float32(warmup)
		}
		if s >= total {
			return 0
		}
		return peak * float32(total-s) / float32(total-warmup)
	}, nil
}

// WarmupCosine rises linearly like LinearWarmupDecay, then follows a half
// cosine from peak at step warmup to floor at step total (and stays at
// floor after): lr = floor + (peak − floor)·(1 + cos(π·p))/2 with
// p = (s − warmup)/(total − warmup).
func WarmupCosine(peak, floor float32, warmup, total int) (Schedule, error) {
	if err := checkSchedule(warmup, total); err != nil {
		return nil, err
	}
	return func(s int) float32 {
		if s <= warmup {
			return peak * float32(s) / float32(warmup)
		}
		p := min(float64(s-warmup)/float64(total-warmup), 1)
		return floor + (peak-floor)*float32((1+math.Cos(math.Pi*p))/2)
	}, nil
}

func checkSchedule(warmup, total int) error {
	if warmup < 0 || total <= warmup {
		return fmt.Errorf("nn: schedule with %d warmup steps of %d: want 0 ≤ warmup < total: %w", warmup, total, tensor.ErrArgument)
	}
	return nil
}
