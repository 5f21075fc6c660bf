/**
 * Request/response over the Node IPC channel between the orchestrator and a load process.
 * Every call has a deadline, so no step of the bench can wait forever.
 */

/** Parent side: `call(cmd, args, timeoutMs)` resolves with the child's answer. */
export function rpcClient(child, name) {
  let next = 0;
  const pending = new Map();
  const failAll = (error) => {
    for (const { reject, timer } of pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    pending.clear();
  };
  child.on('message', (message) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    clearTimeout(entry.timer);
    if (message.error) entry.reject(new Error(`${name}: ${message.error}`));
    else entry.resolve(message.result);
  });
  child.once('exit', (code, signal) => failAll(new Error(`${name} exited (${code ?? signal})`)));
  return function call(cmd, args = {}, timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${name}: "${cmd}" did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      child.send({ id, cmd, args });
    });
  };
}

/** Child side: answers each request with `handlers[cmd](args)`; exits when the parent goes away. */
export function serveRpc(handlers) {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      const handler = handlers[cmd];
      if (!handler) throw new Error(`unknown command "${cmd}"`);
      process.send({ id, result: await handler(args) });
    } catch (error) {
      process.send({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
  process.once('disconnect', () => process.exit(0));
}
