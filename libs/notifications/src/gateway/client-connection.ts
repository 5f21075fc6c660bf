import { CloseCode, type ServerEvents } from '@rtnotify/protocol';
import type { WebSocket } from 'ws';
import type { RegisteredConnection } from './connection.registry.js';
import type { ChannelMessage } from '../storage/notification.broker.js';
import type { SerializedFrame } from '../storage/serialized-frame.js';

/** ws's `readyState` of an open socket and of a closed one. */
const OPEN = 1;
const CLOSED = 3;
/** How long a socket closed for being slow may take to drain before it is cut. */
const SLOW_CONSUMER_GRACE_MS = 5000;

/** The stream a socket's frames are written to (the upgraded TCP socket), which can hold writes. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * How much a write batch holds before it lets go (in UTF-16 units of frames, about bytes): what it
 * holds counts as the socket's unsent buffer, so a large replay must not reach `maxBufferedBytes`.
 */
export const WRITE_BATCH_MAX = 64 * 1024;

/**
 * Writes that go to the kernel together: the frames sent while it holds (a reconnecting socket's
 * replay, its `ready`; and, held from the handshake, the `101` before them, see HandshakeHolds) go
 * in one system call per `WRITE_BATCH_MAX` or so, not one each (`node bench/replay.mjs`, 99
 * replayed per connect: 27-29 µs of the gateway's CPU per replayed notification against 35-38 with
 * a write each). Only what `sent` is told of counts toward `WRITE_BATCH_MAX`. Without a stream, or
 * while it does not hold, each frame is written by itself as usual.
 */
export class WriteBatch {
  private held = 0;
  private holding = false;

  constructor(private readonly stream: Corkable | undefined) {}

  /** Whether it holds the stream's writes (corked) until `end`. */
  get isHolding(): boolean {
    return this.holding;
  }

  /** Starts holding the stream's writes, unless it holds them already. */
  hold(): this {
    if (this.stream && !this.holding) {
      this.stream.cork();
      this.holding = true;
      this.held = 0;
    }
    return this;
  }

  /** A frame of `length` was sent; past WRITE_BATCH_MAX held, what is held goes. */
  sent(length: number): void {
    if (!this.holding || !this.stream) return;
    this.held += length;
    if (this.held < WRITE_BATCH_MAX) return;
    this.held = 0;
    this.stream.uncork();
    this.stream.cork();
  }

  /** Lets go of what is held; it holds no more until `hold`. */
  end(): void {
    if (!this.holding || !this.stream) return;
    this.holding = false;
    this.stream.uncork();
  }
}

export interface ConnectionHooks {
  /** Called for every close the server initiates, with its code. */
  closedByServer(code: number): void;
  /** Called for every notification frame written to the socket. */
  delivered(message: ChannelMessage): void;
}

/**
 * Why a socket's stream cannot go on, so that it must resume from the last id it has: its user's
 * history was reset under it (another epoch), or a message of the user's channel never reached
 * this instance (a version skipped: the store numbers every message it publishes on the channel,
 * one after the other).
 */
export type StreamBreak = 'history reset' | 'stream interrupted';

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
  /**
   * The broker generation its snapshot was taken on (see NotificationBroker.generation); undefined
   * until its snapshot is asked for.
   */
  generation: number | undefined;

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

  /**
   * Sends a frame of the protocol: an event and its data, or a frame the store already serialized.
   * A socket whose unsent buffer is over its budget is closed instead (4008, slow consumer).
   */
  send<E extends keyof ServerEvents>(event: E, data: ServerEvents[E]): void;
  send(frame: SerializedFrame): void;
  send<E extends keyof ServerEvents>(
    eventOrFrame: E | SerializedFrame,
    data?: ServerEvents[E],
  ): void {
    this.write(data === undefined ? eventOrFrame : JSON.stringify({ event: eventOrFrame, data }));
  }

  private write(frame: string): void {
    if (!this.isOpen) return;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.close(CloseCode.SlowConsumer, 'slow consumer: resume with since');
      // Its buffer is full: the close frame may never get through, so memory is bounded by a cut.
      setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
      return;
    }
    this.socket.send(frame);
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState > OPEN) return;
    this.hooks.closedByServer(code);
    this.socket.close(code, reason);
  }

  /** Ends the socket at once, unless it is closed already (its client did not answer a close). */
  cut(): void {
    if (this.socket.readyState !== CLOSED) this.socket.terminate();
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
   * Returns why the socket must resume when its stream cannot go on (see StreamBreak).
   */
  offer(message: ChannelMessage): StreamBreak | undefined {
    if (!this.live) {
      (this.pending ??= []).push(message);
      return undefined;
    }
    return this.forward(message);
  }

  /**
   * Marks the socket live at a snapshot of the user's stream and sends what came after it; returns
   * why the socket must resume instead, if it must.
   */
  goLive(head: { epoch: string; version: number }): StreamBreak | undefined {
    const pending = this.pending ?? [];
    this.pending = undefined;
    this.live = true;
    this.epoch = head.epoch;
    this.version = head.version;
    for (const message of pending) {
      const broken = this.forward(message);
      if (broken) return broken;
    }
    return undefined;
  }

  private forward(message: ChannelMessage): StreamBreak | undefined {
    if (this.epoch === '') {
      this.epoch = message.epoch;
    } else if (message.epoch !== this.epoch) {
      return 'history reset';
    }
    // Already sent, or in the snapshot the socket went live at.
    if (message.version <= this.version) return undefined;
    // The channel was subscribed before the snapshot was taken, so every later message arrives
    // here, in order: a version skipped is a message lost on the way.
    if (message.version > this.version + 1) return 'stream interrupted';
    this.version = message.version;
    this.send(message.frame);
    if (message.id !== undefined) this.hooks.delivered(message);
    return undefined;
  }
}
