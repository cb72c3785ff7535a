import protobuf from "protobufjs";

// The protobuf messages of Prometheus remote write 1.0 (package
// "prometheus", files prompb/remote.proto and prompb/types.proto in the
// Prometheus repository), declared as a protobufjs JSON descriptor so that
// no .proto file has to be found at run time. Field names and numbers are
// fixed by the protocol.
//
// The receiver decodes with the streaming decoder in remote-write-decode.ts,
// which reads these field numbers directly. The reflected types below are
// its reference: tests encode request bodies with them and check that both
// decoders agree.

const descriptor: protobuf.INamespace = {
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: "repeated", type: "TimeSeries", id: 1 },
            metadata: { rule: "repeated", type: "MetricMetadata", id: 3 },
          },
          // Field 2 is reserved because Cortex used it for the request source.
          reserved: [[2, 2]],
        },
        TimeSeries: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            samples: { rule: "repeated", type: "Sample", id: 2 },
            exemplars: { rule: "repeated", type: "Exemplar", id: 3 },
            histograms: { rule: "repeated", type: "Histogram", id: 4 },
          },
        },
        Label: {
          fields: {
            name: { type: "string", id: 1 },
            value: { type: "string", id: 2 },
          },
        },
        Sample: {
          fields: {
            value: { type: "double", id: 1 },
            /** Epoch milliseconds. */
            timestamp: { type: "int64", id: 2 },
          },
        },
        Exemplar: {
          fields: {
            labels: { rule: "repeated", type: "Label", id: 1 },
            value: { type: "double", id: 2 },
            timestamp: { type: "int64", id: 3 },
          },
        },
        Histogram: {
          oneofs: {
            count: { oneof: ["countInt", "countFloat"] },
            zeroCount: { oneof: ["zeroCountInt", "zeroCountFloat"] },
          },
          fields: {
            countInt: { type: "uint64", id: 1 },
            countFloat: { type: "double", id: 2 },
            sum: { type: "double", id: 3 },
            schema: { type: "sint32", id: 4 },
            zeroThreshold: { type: "double", id: 5 },
            zeroCountInt: { type: "uint64", id: 6 },
            zeroCountFloat: { type: "double", id: 7 },
            negativeSpans: { rule: "repeated", type: "BucketSpan", id: 8 },
            negativeDeltas: { rule: "repeated", type: "sint64", id: 9 },
            negativeCounts: { rule: "repeated", type: "double", id: 10 },
            positiveSpans: { rule: "repeated", type: "BucketSpan", id: 11 },
            positiveDeltas: { rule: "repeated", type: "sint64", id: 12 },
            positiveCounts: { rule: "repeated", type: "double", id: 13 },
            resetHint: { type: "ResetHint", id: 14 },
            timestamp: { type: "int64", id: 15 },
            customValues: { rule: "repeated", type: "double", id: 16 },
          },
          nested: {
            ResetHint: {
              values: { UNKNOWN: 0, YES: 1, NO: 2, GAUGE: 3 },
            },
          },
        },
        BucketSpan: {
          fields: {
            offset: { type: "sint32", id: 1 },
            length: { type: "uint32", id: 2 },
          },
        },
        MetricMetadata: {
          fields: {
            type: { type: "MetricType", id: 1 },
            metricFamilyName: { type: "string", id: 2 },
            help: { type: "string", id: 4 },
            unit: { type: "string", id: 5 },
          },
          nested: {
            MetricType: {
              values: {
                UNKNOWN: 0,
                COUNTER: 1,
                GAUGE: 2,
                HISTOGRAM: 3,
                GAUGEHISTOGRAM: 4,
                SUMMARY: 5,
                INFO: 6,
                STATESET: 7,
              },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);

/** The remote write 1.0 request message, prometheus.WriteRequest. */
export const WriteRequest = root.lookupType("prometheus.WriteRequest");

function fieldNumber(type: string, field: string): number {
  return root.lookupType(`prometheus.${type}`).fields[field]!.id;
}

/** Field numbers that the streaming decoder reads, from the types above. */
export const FIELD = {
  writeRequest: { timeseries: fieldNumber("WriteRequest", "timeseries") },
  timeSeries: {
    labels: fieldNumber("TimeSeries", "labels"),
    samples: fieldNumber("TimeSeries", "samples"),
    exemplars: fieldNumber("TimeSeries", "exemplars"),
    histograms: fieldNumber("TimeSeries", "histograms"),
  },
  label: {
    name: fieldNumber("Label", "name"),
    value: fieldNumber("Label", "value"),
  },
  sample: {
    value: fieldNumber("Sample", "value"),
    timestamp: fieldNumber("Sample", "timestamp"),
  },
};
