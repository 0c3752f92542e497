package seerstore

import "time"

// Limits bound what FromTraces accepts. The zero value is not useful: start from DefaultLimits.
type Limits struct {
	// MaxAttributeBytes truncates longer string and bytes attribute values (counted as
	// RepairTruncated); 0 disables truncation.
	MaxAttributeBytes int `mapstructure:"max_attribute_bytes"`
	// MaxSpanBytes rejects spans whose encoded form is larger (RejectTooLarge).
	MaxSpanBytes int `mapstructure:"max_span_bytes"`
	// MaxFutureSkew rejects spans that start later than now plus this (RejectTimestamp).
	MaxFutureSkew time.Duration `mapstructure:"max_future_skew"`
	// MaxDuration rejects spans that last longer (RejectTimestamp).
	MaxDuration time.Duration `mapstructure:"max_duration"`
}

// MinStartTime is the earliest span start accepted: earlier ones are taken for unset or corrupt
// clocks (RejectTimestamp).
var MinStartTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultLimits returns the limits the exporters use unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxAttributeBytes: 16 << 10,  // 16 KiB per value: far above any RPC attribute
		MaxSpanBytes:      256 << 10, // 256 KiB per span: far below Cassandra's mutation limit
		MaxFutureSkew:     time.Hour,
		MaxDuration:       24 * time.Hour,
	}
}
