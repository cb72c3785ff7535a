"use client";

import { Select, SelectItem } from "@tremor/react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";

const ALL_SERVICES = "__all__";
// Team values carry a prefix that no service slug can contain, because
// slugs are lower-case letters, digits and hyphens.
const TEAM_PREFIX = "team:";

type Option = { slug: string; name: string };

/**
 * Select that sets ?service=<slug> or ?team=<slug> on the current page,
 * keeping the other parameters. Picking one removes the other.
 */
export function ServiceFilter({
  services,
  selected,
  teams = [],
  selectedTeam,
}: {
  services: Option[];
  selected?: string;
  teams?: Option[];
  selectedTeam?: string;
}) {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();

  function onChange(value: string) {
    const params = new URLSearchParams(searchParams?.toString());
    params.delete("service");
    params.delete("team");
    if (value.startsWith(TEAM_PREFIX)) params.set("team", value.slice(TEAM_PREFIX.length));
    else if (value !== ALL_SERVICES) params.set("service", value);
    const query = params.toString();
    router.push(query ? `${pathname}?${query}` : pathname);
  }

  let value = ALL_SERVICES;
  if (selected) value = selected;
  else if (selectedTeam) value = `${TEAM_PREFIX}${selectedTeam}`;

  return (
    <Select
      value={value}
      onValueChange={onChange}
      enableClear={false}
      className="w-48"
      aria-label={teams.length > 0 ? "Service or team" : "Service"}
    >
      {[
        <SelectItem key={ALL_SERVICES} value={ALL_SERVICES}>
          All services
        </SelectItem>,
        ...teams.map((team) => (
          <SelectItem key={`${TEAM_PREFIX}${team.slug}`} value={`${TEAM_PREFIX}${team.slug}`}>
            {`Team: ${team.name}`}
          </SelectItem>
        )),
        ...services.map((service) => (
          <SelectItem key={service.slug} value={service.slug}>
            {service.name}
          </SelectItem>
        )),
      ]}
    </Select>
  );
}
