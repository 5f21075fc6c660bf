import type { ClientFrame, ErrorEventData } from '@rtnotify/protocol';
import {
  MarkFrameDto,
  markSelectionOf,
  PingFrameDto,
  ReadFrameDto,
} from '../dto/client-frames.dto.js';
import { describeFieldErrors, validatePlain } from '../utils/validation.util.js';

/** Why a client frame was rejected, as the `error` event says. */
export interface FrameError extends ErrorEventData {
  code: 'bad_frame' | 'unknown_event' | 'invalid_data';
}

const DTO_BY_EVENT = { ping: PingFrameDto, read: ReadFrameDto, mark: MarkFrameDto } as const;

function isEvent(event: string): event is keyof typeof DTO_BY_EVENT {
  return Object.hasOwn(DTO_BY_EVENT, event);
}

/** Parses and validates one client frame: `{"event": string, "data": object}`. */
export function parseClientFrame(
  raw: Buffer | string,
  isBinary: boolean,
): ClientFrame | FrameError {
  if (isBinary) return { code: 'bad_frame', message: 'binary frames are not supported' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString());
  } catch {
    return { code: 'bad_frame', message: 'frame is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { code: 'bad_frame', message: 'frame must be a JSON object {"event", "data"}' };
  }
  const { event, data } = parsed as { event?: unknown; data?: unknown };
  const extra = Object.keys(parsed).filter((key) => key !== 'event' && key !== 'data');
  if (typeof event !== 'string') {
    return { code: 'bad_frame', message: 'frame event must be a string' };
  }
  if (extra.length > 0) {
    return { code: 'bad_frame', message: 'frame may only have "event" and "data"' };
  }
  if (!isEvent(event)) {
    return {
      code: 'unknown_event',
      message: `unknown event; expected one of: ${Object.keys(DTO_BY_EVENT).join(', ')}`,
    };
  }
  const result = validatePlain<object>(DTO_BY_EVENT[event], data ?? {});
  if (!result.ok) return { code: 'invalid_data', message: describeFieldErrors(result.errors) };
  if (event === 'ping') {
    const { ts } = result.value as PingFrameDto;
    return { event, data: ts === undefined ? {} : { ts } };
  }
  if (event === 'mark') return { event, data: markSelectionOf(result.value as MarkFrameDto) };
  const read = result.value as ReadFrameDto;
  return { event, data: read.all ? { all: true } : { ids: read.ids ?? [] } };
}

export function isFrameError(frame: ClientFrame | FrameError): frame is FrameError {
  return 'code' in frame;
}
