import type { ChannelEvent, ChannelMessage } from './notification.broker.js';
import { serializedFrame } from './serialized-frame.js';

/*
 * The message the store publishes on a user's channel: one header line, then the frame as the
 * client gets it:
 *
 *   <epoch> <version> <notification id, or - for other frames> <enqueuedAt epoch ms, 0 if unknown>\n<frame>
 *
 * The Lua scripts write it with PUBLISH_FRAME_LUA and the broker reads it with decodeChannelMessage;
 * both sides live here so that they change together (channel-message.spec.ts round-trips what the
 * real scripts publish).
 */

/** What stands in the header for a frame that carries no notification. */
const NO_ID = '-';

/**
 * Lua: `publishFrame(channel, epoch, version, id, enqueuedAt, frame)` publishes `frame` on
 * `channel` with its header (`id` is '-' and `enqueuedAt` 0 for a frame without a notification).
 * Prepended to every script that publishes.
 */
export const PUBLISH_FRAME_LUA = `
local function publishFrame(channel, epoch, version, id, enqueuedAt, frame)
  redis.call('PUBLISH', channel, epoch .. ' ' .. version .. ' ' .. id .. ' ' .. enqueuedAt .. '\\n' .. frame)
end
`;

/** The message as the scripts write it; the user is the channel's, not part of the message. */
export function encodeChannelMessage(message: Omit<ChannelMessage, 'userId'>): string {
  const header = [message.epoch, message.version, message.id ?? NO_ID, message.enqueuedAt];
  return `${header.join(' ')}\n${message.frame}`;
}

/** Reads a message of `userId`'s channel; undefined when it has no header line. */
export function decodeChannelMessage(userId: string, raw: string): ChannelMessage | undefined {
  const newline = raw.indexOf('\n');
  if (newline < 0) return undefined;
  const [epoch = '', version, id, enqueuedAt] = raw.slice(0, newline).split(' ');
  const message: ChannelMessage = {
    userId,
    epoch,
    version: Number(version),
    enqueuedAt: Number(enqueuedAt) || 0,
    frame: serializedFrame<ChannelEvent>(raw.slice(newline + 1)),
  };
  if (id !== undefined && id !== NO_ID) message.id = id;
  return message;
}
