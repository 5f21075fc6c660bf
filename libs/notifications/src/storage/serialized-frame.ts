import type { ServerEvents } from '@rtnotify/protocol';

declare const frameEvent: unique symbol;

/**
 * A server frame `{"event": E, "data": …}` already serialized as JSON, as the store's scripts write
 * them: a socket sends it as it is, and the type still says which event of the protocol it is.
 */
export type SerializedFrame<E extends keyof ServerEvents = keyof ServerEvents> = string & {
  readonly [frameEvent]: E;
};

/** Tags JSON as a serialized frame of `E`; the caller vouches for its shape (lua-frames.spec). */
export function serializedFrame<E extends keyof ServerEvents>(json: string): SerializedFrame<E> {
  return json as SerializedFrame<E>;
}
