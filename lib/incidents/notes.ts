import { getPool } from "@/lib/db";
import {
  actorColumns,
  actorLogContext,
  type IncidentActor,
} from "@/lib/incidents/actor";
import { checkIncidentId } from "@/lib/incidents/errors";
import { addIncidentEvent } from "@/lib/incidents/events";
import { checkFreeText } from "@/lib/incidents/text";
import { withTransaction } from "@/lib/ingest/transaction";
import { logger } from "@/lib/logger";

// A note is a timeline event of kind "note" whose message is the note's
// text, so notes appear in order with every other change of the incident.

export const NOTE_MAX_LENGTH = 5000;

export type AddedNote = {
  id: number;
  incidentId: number;
  text: string;
  actorName: string;
  createdAt: Date;
};

/**
 * Adds a note to an incident's timeline. Returns null when the incident does
 * not exist. Throws IncidentChangeError 400 for empty, overlong or invalid
 * text.
 */
export async function addIncidentNote(
  incidentId: number,
  text: unknown,
  actor: IncidentActor,
): Promise<AddedNote | null> {
  checkIncidentId(incidentId);
  const note = checkFreeText("text", text, { min: 1, max: NOTE_MAX_LENGTH });

  const added = await withTransaction(getPool(), async (db) => {
    // FOR KEY SHARE keeps the incident from being deleted before the commit
    // without blocking acknowledge or resolve.
    const { rows } = await db.query(
      "SELECT 1 FROM incident WHERE id = $1 FOR KEY SHARE",
      [incidentId],
    );
    if (rows.length === 0) return null;
    const id = await addIncidentEvent(db, {
      incidentId,
      kind: "note",
      ...actorColumns(actor),
      message: note,
      data: { length: note.length },
    });
    const { rows: created } = await db.query<{ created_at: Date }>(
      "SELECT created_at FROM incident_event WHERE id = $1",
      [id],
    );
    return {
      id,
      incidentId,
      text: note,
      actorName: actor.name,
      createdAt: created[0]!.created_at,
    };
  });

  const log = logger.child({ incidentId, ...actorLogContext(actor) });
  if (added) log.info({ eventId: added.id, length: note.length }, "note added");
  else log.warn("note not added: incident not found");
  return added;
}
