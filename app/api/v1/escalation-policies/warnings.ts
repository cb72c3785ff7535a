import type { Queryable } from "@/lib/incidents/events";
import { loadPagingSetting, type StoredPolicy } from "@/lib/oncall/policies";

/**
 * Returns warnings about a saved policy that the API accepts but that would
 * fail when it pages: people (users or schedules) as targets while neither
 * the policy nor the paging channel setting names an email channel, so
 * those levels would page none of those people.
 */
export async function policyWarnings(db: Queryable, policy: StoredPolicy): Promise<string[]> {
  const levels = policy.levels
    .filter((level) => level.targets.some((target) => target.type === "user" || target.type === "schedule"))
    .map((level) => level.position);
  if (levels.length === 0 || policy.pageChannelId !== null) return [];
  const paging = await loadPagingSetting(db);
  if (paging.pagingChannelId !== null) return [];
  return [
    `${levels.length > 1 ? "levels" : "level"} ${levels.join(", ")} ${levels.length > 1 ? "target" : "targets"} people, but the policy has no pageChannelId and no paging channel is set (PUT /api/v1/oncall/settings), so those people cannot be paged by email`,
  ];
}
