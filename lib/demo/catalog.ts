// The demo's fictional shop: five services whose metrics are the 17 AWS
// CloudWatch series of NAB, plus one derived error counter. Deployment times
// are NAB timestamps of the service's reference file, so they move with that
// file's time shift.

export type DemoService = {
  slug: string;
  name: string;
  description: string;
  requestMetric?: string;
  errorMetric?: string;
  // NAB file whose time shift places the service's deployments.
  referenceFile: string;
};

export type DemoSeries = {
  service: string;
  name: string;
  labels: Record<string, string>;
  // NAB file with the values, or the request counter an error counter is
  // derived from.
  file: string;
  derived?: "error-counter";
};

export type DemoDeployment = {
  service: string;
  version: string;
  // NAB time (UTC) in the service's reference file.
  at: string;
  description: string;
};

const AWS = "realAWSCloudwatch";

export const ERROR_COUNTER_SOURCE = `${AWS}/elb_request_count_8c0756.csv`;

export const DEMO_SERVICES: DemoService[] = [
  {
    slug: "checkout-api",
    name: "Checkout API",
    description: "Takes orders and payments from the web shop.",
    requestMetric: "elb_request_count",
    errorMetric: "elb_5xx_count",
    referenceFile: ERROR_COUNTER_SOURCE,
  },
  {
    slug: "orders-db",
    name: "Orders database",
    description: "PostgreSQL on Amazon RDS behind checkout and order history.",
    referenceFile: `${AWS}/rds_cpu_utilization_e47b3b.csv`,
  },
  {
    slug: "catalog-search",
    name: "Catalog search",
    description: "Product search and browse pages, four EC2 hosts.",
    referenceFile: `${AWS}/ec2_cpu_utilization_5f5533.csv`,
  },
  {
    slug: "media-pipeline",
    name: "Media pipeline",
    description: "Batch workers that resize and store product images.",
    referenceFile: `${AWS}/ec2_disk_write_bytes_c0d644.csv`,
  },
  {
    slug: "edge-gateway",
    name: "Edge gateway",
    description:
      "Reverse proxies and an auto scaling group in front of the shop.",
    referenceFile: `${AWS}/ec2_network_in_5abac7.csv`,
  },
];

export const DEMO_SERIES: DemoSeries[] = [
  {
    service: "checkout-api",
    name: "elb_request_count",
    labels: { load_balancer: "checkout-lb" },
    file: ERROR_COUNTER_SOURCE,
  },
  {
    service: "checkout-api",
    name: "elb_5xx_count",
    labels: { load_balancer: "checkout-lb" },
    file: ERROR_COUNTER_SOURCE,
    derived: "error-counter",
  },
  {
    service: "checkout-api",
    name: "ec2_cpu_utilization",
    labels: { instance: "i-825cc2" },
    file: `${AWS}/ec2_cpu_utilization_825cc2.csv`,
  },
  {
    service: "checkout-api",
    name: "ec2_network_in_bytes",
    labels: { instance: "i-257a54" },
    file: `${AWS}/ec2_network_in_257a54.csv`,
  },
  {
    service: "orders-db",
    name: "rds_cpu_utilization",
    labels: { db_instance: "orders-primary" },
    file: `${AWS}/rds_cpu_utilization_e47b3b.csv`,
  },
  {
    service: "orders-db",
    name: "rds_cpu_utilization",
    labels: { db_instance: "orders-replica" },
    file: `${AWS}/rds_cpu_utilization_cc0c53.csv`,
  },
  ...["24ae8d", "53ea38", "5f5533", "fe7f93"].map((id) => ({
    service: "catalog-search",
    name: "ec2_cpu_utilization",
    labels: { instance: `i-${id}` },
    file: `${AWS}/ec2_cpu_utilization_${id}.csv`,
  })),
  ...["77c1ca", "ac20cd", "c6585a"].map((id) => ({
    service: "media-pipeline",
    name: "ec2_cpu_utilization",
    labels: { instance: `i-${id}` },
    file: `${AWS}/ec2_cpu_utilization_${id}.csv`,
  })),
  {
    service: "media-pipeline",
    name: "ec2_disk_write_bytes",
    labels: { instance: "i-c0d644" },
    file: `${AWS}/ec2_disk_write_bytes_c0d644.csv`,
  },
  {
    service: "edge-gateway",
    name: "ec2_network_in_bytes",
    labels: { instance: "i-5abac7" },
    file: `${AWS}/ec2_network_in_5abac7.csv`,
  },
  {
    service: "edge-gateway",
    name: "ec2_network_in_bytes",
    labels: { instance: "i-a2eb1cd9" },
    file: `${AWS}/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv`,
  },
  {
    service: "edge-gateway",
    name: "ec2_disk_write_bytes",
    labels: { instance: "i-1ef3de" },
    file: `${AWS}/ec2_disk_write_bytes_1ef3de.csv`,
  },
  {
    // NAB does not name this metric. Its values (0 to 46) read as percent CPU.
    service: "edge-gateway",
    name: "asg_cpu_utilization",
    labels: { auto_scaling_group: "edge-asg" },
    file: `${AWS}/grok_asg_anomaly.csv`,
  },
];

// Routine releases, plus one per service about half an hour before a
// labelled anomaly window of its reference file.
export const DEMO_DEPLOYMENTS: DemoDeployment[] = [
  {
    service: "checkout-api",
    version: "2.14.0",
    at: "2014-04-10 15:00:00",
    description: "Add saved cards to the payment step",
  },
  {
    service: "checkout-api",
    version: "2.14.1",
    at: "2014-04-12 08:40:00",
    description: "Switch the payment client to a new retry policy",
  },
  {
    service: "checkout-api",
    version: "2.14.2",
    at: "2014-04-13 02:30:00",
    description: "Revert the payment client retry policy",
  },
  {
    service: "checkout-api",
    version: "2.15.0",
    at: "2014-04-17 14:10:00",
    description: "Accept gift cards",
  },
  {
    service: "checkout-api",
    version: "2.16.0",
    at: "2014-04-22 10:50:00",
    description: "Move sessions to the new cache cluster",
  },
  {
    service: "orders-db",
    version: "schema-2014.04.11",
    at: "2014-04-11 09:00:00",
    description: "Add an index on orders.customer_id",
  },
  {
    service: "orders-db",
    version: "schema-2014.04.12",
    at: "2014-04-12 22:05:00",
    description: "Add orders.fulfilment_state and backfill it",
  },
  {
    service: "orders-db",
    version: "schema-2014.04.18",
    at: "2014-04-18 14:40:00",
    description: "Drop the unused index orders_created_at_idx",
  },
  {
    service: "catalog-search",
    version: "5.3.0",
    at: "2014-02-15 11:00:00",
    description: "Add facet counts to search results",
  },
  {
    service: "catalog-search",
    version: "5.4.0",
    at: "2014-02-18 15:30:00",
    description: "Rebuild the ranking model with new click data",
  },
  {
    service: "catalog-search",
    version: "5.4.1",
    at: "2014-02-21 10:00:00",
    description: "Cap query length at 200 characters",
  },
  {
    service: "catalog-search",
    version: "5.5.0",
    at: "2014-02-26 16:00:00",
    description: "Cache category pages for five minutes",
  },
  {
    service: "media-pipeline",
    version: "1.8.0",
    at: "2014-04-04 10:00:00",
    description: "Generate WebP thumbnails",
  },
  {
    service: "media-pipeline",
    version: "1.9.0",
    at: "2014-04-08 19:30:00",
    description: "Re-encode the full image archive",
  },
  {
    service: "media-pipeline",
    version: "1.9.1",
    at: "2014-04-14 09:00:00",
    description: "Limit re-encoding to two jobs per host",
  },
  {
    service: "edge-gateway",
    version: "3.2.0",
    at: "2014-03-03 10:00:00",
    description: "Enable HTTP/2 for shop pages",
  },
  {
    service: "edge-gateway",
    version: "3.3.0",
    at: "2014-03-10 08:40:00",
    description: "Raise the upload size limit to 50 MB",
  },
  {
    service: "edge-gateway",
    version: "3.3.1",
    at: "2014-03-15 12:00:00",
    description: "Log request ids at the edge",
  },
];

export type DemoTeam = { slug: string; name: string; description: string; services: string[] };

// Teams of the demo, so that the team filter of the overview has something
// to show. Every demo service belongs to one of them.
export const DEMO_TEAMS: DemoTeam[] = [
  {
    slug: "storefront",
    name: "Storefront",
    description: "The shop's customer-facing API and search.",
    services: ["checkout-api", "catalog-search"],
  },
  {
    slug: "data",
    name: "Data",
    description: "Order storage and media processing.",
    services: ["orders-db", "media-pipeline"],
  },
  {
    slug: "network",
    name: "Network",
    description: "The edge gateway in front of every service.",
    services: ["edge-gateway"],
  },
];
