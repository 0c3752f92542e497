package seercassandraexporter

import (
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
)

type exporterhelperQueueConfig = exporterhelper.QueueBatchConfig

func configopaqueString(s string) configopaque.String { return configopaque.String(s) }

func consumererrorIsPermanent(err error) bool { return consumererror.IsPermanent(err) }

func exportertestSettings(f exporter.Factory) exporter.Settings {
	return exportertest.NewNopSettings(f.Type())
}

type exporterhelperBatchConfig = exporterhelper.BatchConfig
