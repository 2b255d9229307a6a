package optim

import (
	"fmt"
	"math"
)

// LinearSchedule is HF transformers' get_linear_schedule_with_warmup: the
// learning rate rises linearly from 0 to BaseLR over Warmup updates, then
// falls linearly to 0 at update Total.
type LinearSchedule struct {
	BaseLR float64 // peak learning rate (3e-5 for NER, 2e-5 for MLM in the paper)
	Warmup int     // warmup updates; WarmupSteps(0.1, total) for the paper's 10 %
	Total  int     // total optimizer updates (num_training_steps)
}

// Validate checks that the schedule is usable.
func (s LinearSchedule) Validate() error {
	switch {
	case !(s.BaseLR >= 0) || math.IsInf(s.BaseLR, 0):
		return fmt.Errorf("optim: LinearSchedule.BaseLR %v must be finite and >= 0", s.BaseLR)
	case s.Warmup < 0:
		return fmt.Errorf("optim: LinearSchedule.Warmup %d < 0", s.Warmup)
	case s.Total < 0:
		return fmt.Errorf("optim: LinearSchedule.Total %d < 0", s.Total)
	}
	return nil
}

// LR returns the learning rate of the update that follows step updates
// (step = 0 for the first update, as LambdaLR's last_epoch in HF Trainer,
// which calls scheduler.step() after optimizer.step()). With warmup the
// first update therefore uses lr 0, exactly as in HF.
func (s LinearSchedule) LR(step int) float64 {
	// 1. Warmup: the factor rises from 0 by 1/warmup per update.
	if step < s.Warmup {
		return s.BaseLR * (float64(step) / float64(max(1, s.Warmup)))
	}
	// 2. Decay: the factor falls linearly from 1 at step = warmup to 0 at
	// step = total.
	f := float64(s.Total-step) / float64(max(1, s.Total-s.Warmup))
	// 3. Past the end it stays at 0.
	return s.BaseLR * math.Max(0, f)
}

// WarmupSteps is HF TrainingArguments.get_warmup_steps for a warmup ratio:
// ceil(ratio × total).
func WarmupSteps(ratio float64, total int) int {
	return int(math.Ceil(ratio * float64(total)))
}
