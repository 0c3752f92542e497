package seercassandraexporter

import (
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

type exporterhelperQueueConfig = exporterhelper.QueueBatchConfig

func configopaqueString(s string) configopaque.String { return configopaque.String(s) }

func consumererrorIsPermanent(err error) bool { return consumererror.IsPermanent(err) }
