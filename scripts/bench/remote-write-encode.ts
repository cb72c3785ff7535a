import { compressSync } from "snappy";

import { WriteRequest } from "@/lib/ingest/prometheus/remote-write-schema";

// Encodes remote write 1.0 bodies for the benchmark's sender, with the same
// protobuf messages the receiver's tests use, and snappy block compression as
// Prometheus sends them.

export type RemoteWriteSeries = {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
};

/** Orders label names by code unit. */
function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Returns the snappy-compressed protobuf WriteRequest for `series`. */
export function encodeRemoteWrite(series: RemoteWriteSeries[]): Buffer {
  const message = WriteRequest.create({
    timeseries: series.map((entry) => ({
      labels: Object.entries(entry.labels)
        .sort(([a], [b]) => compareNames(a, b))
        .map(([name, value]) => ({ name, value })),
      samples: entry.samples,
    })),
  });
  return compressSync(Buffer.from(WriteRequest.encode(message).finish()));
}
