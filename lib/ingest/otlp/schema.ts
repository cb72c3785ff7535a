import protobuf from "protobufjs";

// The OTLP metrics messages that Vigil reads and writes, declared as a
// protobufjs JSON descriptor so that no .proto file has to be found at run
// time. Field names and numbers are those of opentelemetry-proto 1.x
// (opentelemetry/proto/collector/metrics/v1/metrics_service.proto,
// metrics/v1/metrics.proto, common/v1/common.proto and
// resource/v1/resource.proto), plus google.rpc.Status for error bodies.
// Fields that Vigil ignores, such as exemplars, are declared only where the
// tests need them to build realistic requests.
//
// The receiver decodes requests with the streaming decoder in protobuf.ts,
// which reads the field numbers in FIELD. The reflected types are its
// reference: tests encode request bodies with them, and the receiver encodes
// its responses with them.

const repeated = (type: string, id: number) => ({
  rule: "repeated",
  type,
  id,
});

const descriptor: protobuf.INamespace = {
  nested: {
    otlp: {
      nested: {
        ExportMetricsServiceRequest: {
          fields: { resourceMetrics: repeated("ResourceMetrics", 1) },
        },
        ExportMetricsServiceResponse: {
          fields: {
            partialSuccess: { type: "ExportMetricsPartialSuccess", id: 1 },
          },
        },
        ExportMetricsPartialSuccess: {
          fields: {
            rejectedDataPoints: { type: "int64", id: 1 },
            errorMessage: { type: "string", id: 2 },
          },
        },
        ResourceMetrics: {
          fields: {
            resource: { type: "Resource", id: 1 },
            scopeMetrics: repeated("ScopeMetrics", 2),
            schemaUrl: { type: "string", id: 3 },
          },
        },
        Resource: {
          fields: {
            attributes: repeated("KeyValue", 1),
            droppedAttributesCount: { type: "uint32", id: 2 },
          },
        },
        ScopeMetrics: {
          fields: {
            scope: { type: "InstrumentationScope", id: 1 },
            metrics: repeated("Metric", 2),
            schemaUrl: { type: "string", id: 3 },
          },
        },
        InstrumentationScope: {
          fields: {
            name: { type: "string", id: 1 },
            version: { type: "string", id: 2 },
            attributes: repeated("KeyValue", 3),
          },
        },
        Metric: {
          oneofs: {
            data: {
              oneof: [
                "gauge",
                "sum",
                "histogram",
                "exponentialHistogram",
                "summary",
              ],
            },
          },
          fields: {
            name: { type: "string", id: 1 },
            description: { type: "string", id: 2 },
            unit: { type: "string", id: 3 },
            gauge: { type: "Gauge", id: 5 },
            sum: { type: "Sum", id: 7 },
            histogram: { type: "Histogram", id: 9 },
            exponentialHistogram: { type: "ExponentialHistogram", id: 10 },
            summary: { type: "Summary", id: 11 },
            metadata: repeated("KeyValue", 12),
          },
        },
        Gauge: { fields: { dataPoints: repeated("NumberDataPoint", 1) } },
        Sum: {
          fields: {
            dataPoints: repeated("NumberDataPoint", 1),
            aggregationTemporality: { type: "int32", id: 2 },
            isMonotonic: { type: "bool", id: 3 },
          },
        },
        Histogram: {
          fields: {
            dataPoints: repeated("HistogramDataPoint", 1),
            aggregationTemporality: { type: "int32", id: 2 },
          },
        },
        ExponentialHistogram: {
          fields: {
            dataPoints: repeated("ExponentialHistogramDataPoint", 1),
            aggregationTemporality: { type: "int32", id: 2 },
          },
        },
        Summary: { fields: { dataPoints: repeated("SummaryDataPoint", 1) } },
        NumberDataPoint: {
          oneofs: { value: { oneof: ["asDouble", "asInt"] } },
          fields: {
            attributes: repeated("KeyValue", 7),
            startTimeUnixNano: { type: "fixed64", id: 2 },
            timeUnixNano: { type: "fixed64", id: 3 },
            asDouble: { type: "double", id: 4 },
            asInt: { type: "sfixed64", id: 6 },
            exemplars: repeated("Exemplar", 5),
            flags: { type: "uint32", id: 8 },
          },
        },
        HistogramDataPoint: {
          oneofs: {
            _sum: { oneof: ["sum"] },
            _min: { oneof: ["min"] },
            _max: { oneof: ["max"] },
          },
          fields: {
            attributes: repeated("KeyValue", 9),
            startTimeUnixNano: { type: "fixed64", id: 2 },
            timeUnixNano: { type: "fixed64", id: 3 },
            count: { type: "fixed64", id: 4 },
            sum: { type: "double", id: 5 },
            bucketCounts: repeated("fixed64", 6),
            explicitBounds: repeated("double", 7),
            exemplars: repeated("Exemplar", 8),
            flags: { type: "uint32", id: 10 },
            min: { type: "double", id: 11 },
            max: { type: "double", id: 12 },
          },
        },
        ExponentialHistogramDataPoint: {
          fields: {
            attributes: repeated("KeyValue", 1),
            startTimeUnixNano: { type: "fixed64", id: 2 },
            timeUnixNano: { type: "fixed64", id: 3 },
            count: { type: "fixed64", id: 4 },
            sum: { type: "double", id: 5 },
            scale: { type: "sint32", id: 6 },
            zeroCount: { type: "fixed64", id: 7 },
            positive: { type: "Buckets", id: 8 },
            negative: { type: "Buckets", id: 9 },
            flags: { type: "uint32", id: 10 },
          },
          nested: {
            Buckets: {
              fields: {
                offset: { type: "sint32", id: 1 },
                bucketCounts: repeated("uint64", 2),
              },
            },
          },
        },
        SummaryDataPoint: {
          fields: {
            attributes: repeated("KeyValue", 7),
            startTimeUnixNano: { type: "fixed64", id: 2 },
            timeUnixNano: { type: "fixed64", id: 3 },
            count: { type: "fixed64", id: 4 },
            sum: { type: "double", id: 5 },
            quantileValues: repeated("ValueAtQuantile", 6),
            flags: { type: "uint32", id: 8 },
          },
        },
        ValueAtQuantile: {
          fields: {
            quantile: { type: "double", id: 1 },
            value: { type: "double", id: 2 },
          },
        },
        Exemplar: {
          fields: {
            filteredAttributes: repeated("KeyValue", 7),
            timeUnixNano: { type: "fixed64", id: 2 },
            asDouble: { type: "double", id: 3 },
            spanId: { type: "bytes", id: 4 },
            traceId: { type: "bytes", id: 5 },
          },
        },
        KeyValue: {
          fields: {
            key: { type: "string", id: 1 },
            value: { type: "AnyValue", id: 2 },
          },
        },
        AnyValue: {
          oneofs: {
            value: {
              oneof: [
                "stringValue",
                "boolValue",
                "intValue",
                "doubleValue",
                "arrayValue",
                "kvlistValue",
                "bytesValue",
              ],
            },
          },
          fields: {
            stringValue: { type: "string", id: 1 },
            boolValue: { type: "bool", id: 2 },
            intValue: { type: "int64", id: 3 },
            doubleValue: { type: "double", id: 4 },
            arrayValue: { type: "ArrayValue", id: 5 },
            kvlistValue: { type: "KeyValueList", id: 6 },
            bytesValue: { type: "bytes", id: 7 },
          },
        },
        ArrayValue: { fields: { values: repeated("AnyValue", 1) } },
        KeyValueList: { fields: { values: repeated("KeyValue", 1) } },
        /** google.rpc.Status, the body of OTLP/HTTP error responses. */
        Status: {
          fields: {
            code: { type: "int32", id: 1 },
            message: { type: "string", id: 2 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);

/** Looks up one of the message types above by its name, such as "Metric". */
export function otlpType(name: string): protobuf.Type {
  return root.lookupType(`otlp.${name}`);
}

export const ExportMetricsServiceRequest = otlpType(
  "ExportMetricsServiceRequest",
);
export const ExportMetricsServiceResponse = otlpType(
  "ExportMetricsServiceResponse",
);
export const RpcStatus = otlpType("Status");

function fieldNumber(type: string, field: string): number {
  return otlpType(type).fields[field]!.id;
}

/** Field numbers that the streaming decoder reads, from the types above. */
export const FIELD = {
  request: {
    resourceMetrics: fieldNumber(
      "ExportMetricsServiceRequest",
      "resourceMetrics",
    ),
  },
  resourceMetrics: {
    resource: fieldNumber("ResourceMetrics", "resource"),
    scopeMetrics: fieldNumber("ResourceMetrics", "scopeMetrics"),
  },
  resource: { attributes: fieldNumber("Resource", "attributes") },
  scopeMetrics: { metrics: fieldNumber("ScopeMetrics", "metrics") },
  metric: {
    name: fieldNumber("Metric", "name"),
    gauge: fieldNumber("Metric", "gauge"),
    sum: fieldNumber("Metric", "sum"),
    histogram: fieldNumber("Metric", "histogram"),
    exponentialHistogram: fieldNumber("Metric", "exponentialHistogram"),
    summary: fieldNumber("Metric", "summary"),
  },
  /** Gauge, Sum, Histogram, ExponentialHistogram and Summary share these. */
  data: {
    dataPoints: fieldNumber("Sum", "dataPoints"),
    aggregationTemporality: fieldNumber("Sum", "aggregationTemporality"),
    isMonotonic: fieldNumber("Sum", "isMonotonic"),
  },
  numberDataPoint: {
    attributes: fieldNumber("NumberDataPoint", "attributes"),
    timeUnixNano: fieldNumber("NumberDataPoint", "timeUnixNano"),
    asDouble: fieldNumber("NumberDataPoint", "asDouble"),
    asInt: fieldNumber("NumberDataPoint", "asInt"),
    flags: fieldNumber("NumberDataPoint", "flags"),
  },
  histogramDataPoint: {
    attributes: fieldNumber("HistogramDataPoint", "attributes"),
    timeUnixNano: fieldNumber("HistogramDataPoint", "timeUnixNano"),
    count: fieldNumber("HistogramDataPoint", "count"),
    sum: fieldNumber("HistogramDataPoint", "sum"),
    bucketCounts: fieldNumber("HistogramDataPoint", "bucketCounts"),
    explicitBounds: fieldNumber("HistogramDataPoint", "explicitBounds"),
    flags: fieldNumber("HistogramDataPoint", "flags"),
  },
  summaryDataPoint: {
    attributes: fieldNumber("SummaryDataPoint", "attributes"),
    timeUnixNano: fieldNumber("SummaryDataPoint", "timeUnixNano"),
    count: fieldNumber("SummaryDataPoint", "count"),
    sum: fieldNumber("SummaryDataPoint", "sum"),
    quantileValues: fieldNumber("SummaryDataPoint", "quantileValues"),
    flags: fieldNumber("SummaryDataPoint", "flags"),
  },
  valueAtQuantile: {
    quantile: fieldNumber("ValueAtQuantile", "quantile"),
    value: fieldNumber("ValueAtQuantile", "value"),
  },
  keyValue: {
    key: fieldNumber("KeyValue", "key"),
    value: fieldNumber("KeyValue", "value"),
  },
  anyValue: {
    stringValue: fieldNumber("AnyValue", "stringValue"),
    boolValue: fieldNumber("AnyValue", "boolValue"),
    intValue: fieldNumber("AnyValue", "intValue"),
    doubleValue: fieldNumber("AnyValue", "doubleValue"),
    arrayValue: fieldNumber("AnyValue", "arrayValue"),
    kvlistValue: fieldNumber("AnyValue", "kvlistValue"),
    bytesValue: fieldNumber("AnyValue", "bytesValue"),
  },
  /** ArrayValue and KeyValueList share this. */
  values: fieldNumber("ArrayValue", "values"),
};
