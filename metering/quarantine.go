package metering

import (
	"strconv"
	"strings"
	"time"
)

// Quarantine lengths of the spec's "Quarantine on removal".
const (
	quarantineNew = 7 * 24 * time.Hour // 11.20 SR18, 12.00 SR6, 12.10 and later
	quarantineOld = 24 * time.Hour     // before those
)

// First builds with the 7-day quarantine, per minor release before 12.10
// [guess: service releases number their builds in steps of about 100; 11.20
// SR12 is build 12904, so SR18 is taken as 13900 and 12.00 SR6 as 20600]. A
// licence file can set quarantine explicitly where this reading is wrong.
var newQuarantineFromBuild = map[[2]int]int{
	{11, 20}: 13900,
	{12, 0}:  20600,
}

// quarantinePolicy decides how long a removed licence stays occupied.
type quarantinePolicy struct {
	fixed time.Duration // > 0: the licence file's duration; 0: auto
	rule  string        // QuarantineRule when fixed
}

func newQuarantinePolicy(setting string) quarantinePolicy {
	if setting == "" || setting == QuarantineAuto {
		return quarantinePolicy{}
	}
	d, _ := ParseDuration(setting) // validated when the licence was loaded
	return quarantinePolicy{fixed: d, rule: "license"}
}

// of returns the quarantine for a holder whose latest session ran on a
// server with exeVersion, and the rule it came from.
func (q quarantinePolicy) of(exeVersion string) (time.Duration, string) {
	if q.fixed > 0 {
		return q.fixed, q.rule
	}
	if hasNewQuarantine(exeVersion) {
		return quarantineNew, "auto:7d"
	}
	return quarantineOld, "auto:24h"
}

// hasNewQuarantine reads an Exe Version such as 11.20.12904.0409.10 or
// 12.50.20200.0. A version that cannot be read is taken as new: the servers
// still running are.
func hasNewQuarantine(exeVersion string) bool {
	parts := strings.Split(exeVersion, ".")
	if len(parts) < 2 {
		return true
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	switch {
	case major > 12 || (major == 12 && minor >= 10):
		return true
	case major < 11 || (major == 11 && minor < 20):
		return false
	}
	from, known := newQuarantineFromBuild[[2]int{major, minor}]
	if !known || len(parts) < 3 {
		return false
	}
	build, err := strconv.Atoi(parts[2])
	return err == nil && build >= from
}
