import { EventEmitter } from 'node:events';
import { NotificationsWsAdapter } from './notifications-ws.adapter.js';

describe(NotificationsWsAdapter.name, () => {
  const sut = new NotificationsWsAdapter();

  it("calls a socket's disconnect callback once, on its close, through a plain listener", () => {
    const socket = new EventEmitter();
    const callback = vi.fn();

    sut.bindClientDisconnect(socket, callback);
    socket.emit('close', 1000, Buffer.from('bye'));

    expect(callback).toHaveBeenCalledExactlyOnceWith(1000, Buffer.from('bye'));
    // The listener is the callback itself, not a `once` wrapper kept per socket.
    expect(socket.rawListeners('close')).toEqual([callback]);
  });

  it('gives every socket the same error listener, which keeps the error out of the error log', () => {
    const server = new EventEmitter();
    sut.bindErrorHandler(server);
    const [a, b] = [new EventEmitter(), new EventEmitter()];
    server.emit('connection', a);
    server.emit('connection', b);
    const logger = (sut as unknown as { socketLogger: { error: () => void; debug: () => void } })
      .socketLogger;
    const error = vi.spyOn(logger, 'error');
    const debug = vi.spyOn(logger, 'debug').mockImplementation(() => undefined);

    expect(a.listeners('error')).toHaveLength(1);
    expect(a.listeners('error')).toEqual(b.listeners('error'));
    a.emit(
      'error',
      Object.assign(new Error('too big'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }),
    );
    expect(error).not.toHaveBeenCalled();
    expect(debug).toHaveBeenCalledExactlyOnceWith(
      'socket closed on a client error: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
    );
  });

  it('binds no message pipeline to a socket of a gateway without message handlers', () => {
    const socket = new EventEmitter();

    sut.bindMessageHandlers(socket, [], (data: unknown) => data);

    expect(socket.eventNames()).toEqual([]);
  });
});
