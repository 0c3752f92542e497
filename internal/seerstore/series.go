package seerstore

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// FromMetrics extracts series points from gauge and sum metrics whose name starts with prefix (for
// example "seer.queue."): one point per number data point, service and instance from the resource
// (service.name, service.instance.id) or, when absent there, from the data point's attributes. It
// returns the points and the number of data points of matching metrics it could not use (other
// metric types, no timestamp).
func FromMetrics(md pmetric.Metrics, prefix string) (points []SeriesPoint, skipped int) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		service, instance := serviceOf(rm.Resource().Attributes())
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			ms := rm.ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if !strings.HasPrefix(m.Name(), prefix) {
					continue
				}
				var dps pmetric.NumberDataPointSlice
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				default:
					skipped += dataPointCount(m)
					continue
				}
				name, _ := (&fixer{}).str(m.Name())
				for d := 0; d < dps.Len(); d++ {
					dp := dps.At(d)
					if dp.Timestamp() == 0 {
						skipped++
						continue
					}
					p := SeriesPoint{Service: service, Instance: instance, Metric: name, TsNs: int64(dp.Timestamp())}
					if ds, di := serviceOf(dp.Attributes()); p.Service == "" || p.Instance == "" {
						if p.Service == "" {
							p.Service = ds
						}
						if p.Instance == "" {
							p.Instance = di
						}
					}
					if p.Service == "" {
						p.Service = UnknownService
					}
					p.Service, _ = (&fixer{}).str(p.Service)
					p.Instance, _ = (&fixer{}).str(p.Instance)
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						p.Value = float64(dp.IntValue())
					} else {
						p.Value = dp.DoubleValue()
					}
					points = append(points, p)
				}
			}
		}
	}
	return points, skipped
}

func dataPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}
