import { CloseCode, type ServerEvents } from '@rtnotify/protocol';
import type { WebSocket } from 'ws';
import type { RegisteredConnection } from '../connection.registry.js';
import type { ChannelMessage } from '../notification.broker.js';

const OPEN = 1;
/** How long a socket closed for being slow may take to drain before it is cut. */
const SLOW_CONSUMER_GRACE_MS = 5000;

export interface ConnectionHooks {
  /** Called for every close the server initiates, with its code. */
  closedByServer(code: number): void;
  /** Called for every notification frame written to the socket. */
  delivered(message: ChannelMessage): void;
}

/** One authenticated socket: its user, its place in the user's stream, and its budgets. */
export class ClientConnection implements RegisteredConnection {
  userId = '';
  /** Messages that arrived while the replay ran; sent (or dropped) when the socket goes live. */
  private pending: ChannelMessage[] | undefined;
  private live = false;
  /** Whether the socket is authenticated: a promise until that is known. */
  authenticated: Promise<boolean> | boolean = false;
  /** The user's history epoch this socket is following ('' until known). */
  private epoch = '';
  private version = 0;
  private windowStartedAt = 0;
  private messagesInWindow = 0;
  /** When the last unanswered ping went out (0: none outstanding). */
  pingSentAt = 0;
  /** When the next ping is due. */
  nextPingAt = Number.POSITIVE_INFINITY;
  /** When the token, plus its grace, expires. */
  expiresAt = Number.POSITIVE_INFINITY;
  /** Holds a subscription to the user's channel, to be released on close. */
  subscribed = false;
  /** The broker generation its subscription dates from (see NotificationBroker.generation). */
  generation = 0;

  constructor(
    readonly socket: WebSocket,
    private readonly maxBufferedBytes: number,
    private readonly hooks: ConnectionHooks,
  ) {}

  /** The client showed it is there (a pong or any frame). */
  answered(): void {
    this.pingSentAt = 0;
  }

  get isOpen(): boolean {
    return this.socket.readyState === OPEN;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** Sends a serialized frame, or closes a socket whose unsent buffer is over its budget. */
  send(frame: string): void {
    if (!this.isOpen) return;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(CloseCode.SlowConsumer, 'slow consumer: resume with since');
      // Its buffer is full: the close frame may never get through, so memory is bounded by a cut.
      setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
      return;
    }
    this.socket.send(frame);
  }

  sendEvent<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void {
    this.send(JSON.stringify({ event, data }));
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState > OPEN) return;
    this.hooks.closedByServer(code);
    this.socket.close(code, reason);
  }

  /** Counts a client frame; false once the socket is over `perMinute` in the current minute. */
  takeMessageBudget(perMinute: number, now = Date.now()): boolean {
    if (now - this.windowStartedAt >= 60_000) {
      this.windowStartedAt = now;
      this.messagesInWindow = 0;
    }
    this.messagesInWindow += 1;
    return this.messagesInWindow <= perMinute;
  }

  /**
   * Hands over a message of the user's channel: buffered before the socket is live, sent after.
   * Returns false when the user's history was reset under a live socket, which must then resume.
   */
  offer(message: ChannelMessage): boolean {
    if (!this.live) {
      (this.pending ??= []).push(message);
      return true;
    }
    return this.forward(message);
  }

  /** Marks the socket live at a snapshot of the user's stream and sends what came after it. */
  goLive(head: { epoch: string; version: number }): boolean {
    const pending = this.pending ?? [];
    this.pending = undefined;
    this.live = true;
    this.epoch = head.epoch;
    this.version = head.version;
    return pending.every((message) => this.forward(message));
  }

  private forward(message: ChannelMessage): boolean {
    if (this.epoch === '') {
      this.epoch = message.epoch;
    } else if (message.epoch !== this.epoch) {
      return false;
    }
    if (message.version <= this.version) return true;
    this.version = message.version;
    this.send(message.frame);
    if (message.id !== undefined) this.hooks.delivered(message);
    return true;
  }
}
