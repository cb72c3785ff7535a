"use client";

import { Select, SelectItem } from "@tremor/react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";

const ALL_SERVICES = "__all__";

/** Select that sets ?service=<slug> on the current page, keeping the other parameters. */
export function ServiceFilter({
  services,
  selected,
}: {
  services: { slug: string; name: string }[];
  selected?: string;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();

  function onChange(value: string) {
    const params = new URLSearchParams(searchParams?.toString());
    if (value === ALL_SERVICES) params.delete("service");
    else params.set("service", value);
    const query = params.toString();
    router.push(query ? `${pathname}?${query}` : pathname);
  }

  return (
    <Select
      value={selected ?? ALL_SERVICES}
      onValueChange={onChange}
      enableClear={false}
      className="w-48"
      aria-label="Service"
    >
      {[
        <SelectItem key={ALL_SERVICES} value={ALL_SERVICES}>
          All services
        </SelectItem>,
        ...services.map((service) => (
          <SelectItem key={service.slug} value={service.slug}>
            {service.name}
          </SelectItem>
        )),
      ]}
    </Select>
  );
}
