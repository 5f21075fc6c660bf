/*
 * One entry of a user's history list (see lua-scripts.ts):
 * `<seq>|<state>|<createdAt ms>|<type>|<category>|<length of extra>|<extra><payload JSON>`.
 * The scripts store the fields and leave out what can be rebuilt (the id, the JSON around the
 * fields, createdAt as text); this rebuilds the notification's JSON exactly as the append script
 * sends it live.
 */

const ENTRY = /^(\d+)\|([0-7])\|(\d+)\|([^|]*)\|([^|]*)\|(\d+)\|/;

/** The client's flags of each state (bits 1 = unread, 2 = unseen, 4 = archived). */
const FLAG_SUFFIXES = Array.from(
  { length: 8 },
  (_, state) =>
    `,"read":${(state & 1) === 0},"seen":${(state & 2) === 0},"archived":${(state & 4) === 4}}`,
);

/**
 * The notification's JSON with its read, seen and archived flags, as clients receive it, from an
 * entry of the history of `epoch`.
 * @throws Error when the entry is not one the scripts write
 */
export function decodeEntry(epoch: string, entry: string): string {
  const match = ENTRY.exec(entry);
  if (match === null) throw new Error('a stored notification is malformed');
  const [head, seq, state, createdMs, type, category, extraLength] = match;
  const extraEnd = head.length + Number(extraLength);
  const categoryJson = category === '' ? '' : `,"category":"${category}"`;
  return (
    `{"createdAt":"${new Date(Number(createdMs)).toISOString()}","id":"${epoch}-${seq}",` +
    `"type":"${type}"${categoryJson}${entry.slice(head.length, extraEnd)},"payload":` +
    `${entry.slice(extraEnd)}${FLAG_SUFFIXES[Number(state)]}`
  );
}
