package pretrain

// Test switches of Train (TrainOptions.hooks).

// deferReads defers the loss reads on the CPU too, as on CUDA.
func (o *TrainOptions) deferReads(on bool) { o.hooks.DeferReads = on }

// forceScaler enables fp16's loss scaler at any precision.
func (o *TrainOptions) forceScaler(on bool) { o.hooks.ForceScaler = on }

// onFault sets the fault-injection callback (engine.Hooks.Fault).
func (o *TrainOptions) onFault(f func(point string)) { o.hooks.Fault = f }
