"use client";

import { Button } from "@tremor/react";
import { useId, useState } from "react";

import type { Option } from "@/components/oncall-forms";

// The members of a rotation in turn order. A multi-select would send them
// in list order whatever order they were picked in, so the picker keeps an
// ordered list that can be rearranged, and each entry becomes one hidden
// "members" input in that order.

const SELECT_CLASS =
  "block w-full rounded-md border-slate-300 text-sm shadow-sm focus:border-indigo-500 focus:ring-indigo-500";

export function MemberPicker({ users, initial = [] }: { users: Option[]; initial?: number[] }) {
  const [members, setMembers] = useState<number[]>(initial);
  const [choice, setChoice] = useState("");
  const selectId = useId();
  const names = new Map(users.map((user) => [user.id, user.name]));
  const available = users.filter((user) => !members.includes(user.id));

  function move(index: number, offset: -1 | 1) {
    setMembers((current) => {
      const next = [...current];
      const target = index + offset;
      if (target < 0 || target >= next.length) return current;
      [next[index], next[target]] = [next[target]!, next[index]!];
      return next;
    });
  }

  function add() {
    const id = Number(choice || available[0]?.id);
    if (!Number.isInteger(id) || id <= 0 || members.includes(id)) return;
    setMembers((current) => [...current, id]);
    setChoice("");
  }

  return (
    <fieldset className="space-y-2 text-sm sm:col-span-3">
      <legend className="mb-1 font-medium text-slate-700">Members, in turn order</legend>
      {members.length === 0 ? (
        <p className="text-xs text-slate-500">Nobody yet. Add the person who takes the first turn first.</p>
      ) : (
        <ol className="space-y-1" data-testid="member-order">
          {members.map((id, index) => {
            const name = names.get(id) ?? `user ${id}`;
            return (
              <li key={id} className="flex flex-wrap items-center gap-2">
                <input type="hidden" name="members" value={id} />
                <span className="min-w-40" data-testid="member-name">
                  {index + 1}. {name}
                </span>
                <Button type="button" size="xs" variant="light" disabled={index === 0} onClick={() => move(index, -1)} aria-label={`Move ${name} up`}>
                  Up
                </Button>
                <Button
                  type="button"
                  size="xs"
                  variant="light"
                  disabled={index === members.length - 1}
                  onClick={() => move(index, 1)}
                  aria-label={`Move ${name} down`}
                >
                  Down
                </Button>
                <Button
                  type="button"
                  size="xs"
                  variant="light"
                  color="rose"
                  onClick={() => setMembers((current) => current.filter((member) => member !== id))}
                  aria-label={`Remove ${name}`}
                >
                  Remove
                </Button>
              </li>
            );
          })}
        </ol>
      )}
      {available.length > 0 && (
        <div className="flex flex-wrap items-end gap-2">
          <div>
            <label htmlFor={selectId} className="mb-1 block text-xs text-slate-600">
              Add member
            </label>
            <select id={selectId} value={choice} onChange={(event) => setChoice(event.target.value)} className={SELECT_CLASS}>
              {available.map((user) => (
                <option key={user.id} value={user.id}>
                  {user.name}
                </option>
              ))}
            </select>
          </div>
          <Button type="button" size="xs" variant="secondary" onClick={add}>
            Add to rotation
          </Button>
        </div>
      )}
    </fieldset>
  );
}
