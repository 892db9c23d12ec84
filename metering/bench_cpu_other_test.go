//go:build !unix

package metering

import (
	"testing"
	"time"
)

// cpuTime is not measured here: the benchmark reports wall-clock rates only.
func cpuTime(*testing.B) time.Duration { return 0 }
