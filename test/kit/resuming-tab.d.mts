export interface TabClose {
  code: number;
  reason: string;
}

/**
 * A browser tab that follows one user's stream across closes: it resumes from the last id it saw,
 * on whichever gateway `target()` names, and counts what it got twice or out of order.
 */
export class ResumingTab {
  readonly received: string[];
  readonly closes: TabClose[];
  duplicates: number;
  reordered: number;
  truncations: number;
  readonly token: string;
  /** `onNotification` sees each notification the first time its id arrives. */
  constructor(
    token: string,
    target: () => string,
    onNotification?: (notification: { id: string; payload: any }) => void,
  );
  /** Resolves once the first socket is ready. */
  open(): Promise<void>;
  /** The current socket's `readyState` (undefined before the first one is ready). */
  readonly readyState: number | undefined;
  /** Whether the notification `id` has arrived. */
  has(id: string): boolean;
  /** Drops the socket, as a flaky network or a refresh would; the tab resumes by itself. */
  drop(): void;
  /** Waits until it has received `count` notifications (or the timeout passes). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}
