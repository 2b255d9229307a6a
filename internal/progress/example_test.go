package progress_test

import (
	"os"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/progress"
)

func ExampleBar() {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	bar := progress.New(os.Stdout, 4, progress.Options{Mode: progress.Plain, Interval: time.Minute,
		Now: func() time.Time { return now }})
	for step := 1; step <= 4; step++ {
		now = now.Add(30 * time.Second)
		bar.Update(step, progress.Fields{Loss: 1 / float64(step), LR: 3e-5, Tokens: 1024, Epoch: float64(step) / 4})
	}
	bar.Finish()
	// Output:
	// step 1/4 (25.0%) | epoch 0.25 | loss 1.0000 | lr 3e-05 | 34 tok/s | 0:00:30 < 0:01:30
	// step 3/4 (75.0%) | epoch 0.75 | loss 0.5998 | lr 3e-05 | 34 tok/s | 0:01:30 < 0:00:30
	// step 4/4 (100.0%) | epoch 1.00 | loss 0.5055 | lr 3e-05 | 34 tok/s | 0:02:00 < 0:00:00
}
