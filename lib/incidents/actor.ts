import type { ActorType } from "@/lib/generated/prisma/enums";

/**
 * Who changes an incident: a signed-in user, an API token or a worker
 * process. A user without `type` is the form the incident page passes.
 */
export type IncidentActor =
  | { type?: "user"; id: number; name: string }
  | {
      type: "token";
      id: number;
      name: string;
      /** Service the token is bound to; null or absent for an unbound token. */
      serviceId?: number | null;
    }
  | { type: "worker"; id?: null; name: string };

/** Timeline columns that name the actor of an event. */
export function actorColumns(actor: IncidentActor): {
  actorType: ActorType;
  actorId: number | null;
  actorName: string;
} {
  return {
    actorType: actor.type ?? "user",
    actorId: actor.id ?? null,
    actorName: actor.name,
  };
}

/** Returns the user id for incident columns such as acknowledged_by_id, or null unless a user acts. */
export function actorUserId(actor: IncidentActor): number | null {
  return (actor.type ?? "user") === "user" ? (actor.id ?? null) : null;
}

/** Ids for log lines; never the token itself, which no actor holds. */
export function actorLogContext(actor: IncidentActor): Record<string, unknown> {
  return { actorType: actor.type ?? "user", actorId: actor.id ?? null };
}
