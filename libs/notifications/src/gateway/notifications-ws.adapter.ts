import { Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';

/**
 * Nest's `ws` adapter, but quiet about client-caused socket errors (a frame too large, invalid UTF-8,
 * too many fragments): `WsAdapter` logs each one as an error with a stack trace, which lets any client
 * fill the error log. The gateway counts them by close code in the metrics instead. It also spares
 * each idle socket what Nest would otherwise keep for it (a pipeline, a listener of its own).
 */
export class NotificationsWsAdapter extends WsAdapter {
  private readonly socketLogger = new Logger(NotificationsWsAdapter.name);
  /** Every socket's `error` listener: one function, not a closure per socket. */
  private readonly onSocketError = (error: Error & { code?: string }): void =>
    this.socketLogger.debug(`socket closed on a client error: ${error.code ?? 'unknown'}`);

  /**
   * Nest binds an rxjs pipeline of message handlers to every socket; the notifications gateway
   * reads its frames itself and declares none, so a socket without handlers gets no pipeline (less
   * memory per idle socket).
   */
  override bindMessageHandlers(client: any, handlers: any[], transform: any): void {
    if (handlers.length === 0) return;
    super.bindMessageHandlers(client, handlers, transform);
  }

  /**
   * `on`, not `once` as Nest's adapter has it: ws emits `close` once per socket anyway, and a `once`
   * listener is a wrapper and its state that every idle socket would hold.
   */
  override bindClientDisconnect(client: any, callback: (...args: unknown[]) => void): void {
    client.on('close', callback);
  }

  override bindErrorHandler(server: any): any {
    server.on('connection', (socket: any) => socket.on('error', this.onSocketError));
    server.on('error', (error: Error) => this.socketLogger.error(`server error: ${error.message}`));
    return server;
  }
}
