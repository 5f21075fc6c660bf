import type { ChainableCommander } from 'ioredis';
import { setImmediate as endOfTurn } from 'node:timers/promises';

interface Turn {
  pipeline: ChainableCommander;
  size: number;
  replies: Promise<[error: Error | null, result: unknown][]>;
}

/**
 * Commands issued in one turn of the event loop, sent together as one pipeline at its end: a burst
 * of requests (a reconnect storm's replays, say) costs one write and one read each way, not one per
 * request. Each caller gets its own command's reply, or its own error.
 */
export class TurnPipeline {
  private turn: Turn | undefined;

  /** @param create a new pipeline (`storePipeline`: one per node on a cluster) */
  constructor(private readonly create: () => ChainableCommander) {}

  /** Queues one command (`queue` adds exactly one to the pipeline); resolves with its reply. */
  async send<T>(queue: (pipeline: ChainableCommander) => unknown): Promise<T> {
    const turn = (this.turn ??= this.startTurn());
    const index = turn.size++;
    queue(turn.pipeline);
    const replies = await turn.replies;
    const reply = replies[index];
    if (reply === undefined) throw new Error('the pipeline returned no reply');
    if (reply[0]) throw reply[0];
    return reply[1] as T;
  }

  private startTurn(): Turn {
    const pipeline = this.create();
    const replies = endOfTurn().then(async () => {
      // Commands queued from now on go in the next turn's pipeline.
      this.turn = undefined;
      return (await pipeline.exec()) ?? [];
    });
    return { pipeline, size: 0, replies };
  }
}
