package apiv1

import (
	"fmt"
	"math"
	"time"
)

// The text forms of quantities and times, shared by the verdict's
// sentences (the server) and the report (the client) so that both read
// alike.

// HourMinute is t as UTC "15:04".
func HourMinute(t time.Time) string { return t.UTC().Format("15:04") }

// Clock is HourMinute, with seconds when t is not on a minute (a window ending
// in the current minute).
func Clock(t time.Time) string {
	if t.Truncate(time.Minute).Equal(t) {
		return HourMinute(t)
	}
	return t.UTC().Format("15:04:05")
}

// HumanBytes prints b in decimal units ("1.5 MB").
func HumanBytes(b uint64) string {
	const unit = 1000
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(b)/float64(div), "kMGTPE"[exp])
}

// HumanBps prints a bit rate ("12.0 Mbps").
func HumanBps(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.2f Gbps", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.1f Mbps", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.1f kbps", bps/1e3)
	}
	return fmt.Sprintf("%.0f bps", Finite(bps))
}

// SpansDays is true when a range is long enough, or crosses midnight,
// so that a time of day alone would be ambiguous.
func SpansDays(from, to time.Time) bool {
	return to.Sub(from) >= 20*time.Hour || from.UTC().YearDay() != to.UTC().YearDay()
}

// TimeSpan prints a window "15:04–15:09", with its dates when dated
// ("2026-11-25 15:04 – 2026-11-26 09:00"; the second date only when it
// differs), and seconds where a time is not on a minute.
func TimeSpan(from, to time.Time, dated bool) string {
	if !dated {
		return Clock(from) + "–" + Clock(to)
	}
	end := Clock(to)
	if from.UTC().YearDay() != to.UTC().YearDay() || from.UTC().Year() != to.UTC().Year() {
		end = to.UTC().Format(time.DateOnly) + " " + end
	}
	return from.UTC().Format(time.DateOnly) + " " + Clock(from) + " – " + end
}

// TrimFloat prints 12 as "12" and 3.14159 as "3.1".
func TrimFloat(x float64) string {
	x = Finite(x)
	if x >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

// Finite maps NaN and ±Inf (empty aggregates) to 0: JSON has no NaN.
func Finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// Round rounds x to digits decimals, a non-finite x to 0: the figures of
// an answer carry no more precision than they mean.
func Round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(Finite(x)*p) / p
}

// OperStatus names an IF-MIB ifOperStatus value.
func OperStatus(s uint8) string {
	switch s {
	case 1:
		return "up"
	case 2:
		return "down"
	case 3:
		return "testing"
	case 5:
		return "dormant"
	case 6:
		return "notPresent"
	case 7:
		return "lowerLayerDown"
	}
	return "unknown"
}
