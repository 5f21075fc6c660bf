/**
 * How a load client speaks to each system: the URL it opens, when its socket counts as
 * authenticated and live, and where a notification's bench payload ({s, q, t}) sits in a frame.
 * The Socket.IO side is the Engine.IO v4 / Socket.IO v5 protocol over a plain `ws` socket (what
 * socket.io-client does with `transports: ['websocket']`), to keep the load process light.
 */
import WebSocket from 'ws';

const OPTIONS = { perMessageDeflate: false, handshakeTimeout: 30_000, autoPong: false };

/**
 * Pings are answered in batches of 100 per event-loop turn. A server that pings all its sockets at
 * once (the `ws` README heartbeat, every 30 s; ours spreads its pings over the interval) would
 * otherwise freeze this one process, which plays 10,000 browsers, for ~200 ms of pong writes, and
 * the freeze would show as the system's tail latency. A real browser answers only its own ping.
 * Answers still go out within about a second, far inside every server's ping timeout.
 */
const pongs = [];
function answerSoon(answer) {
  pongs.push(answer);
  if (pongs.length === 1) setImmediate(answerBatch);
}
function answerBatch() {
  for (const answer of pongs.splice(0, 100)) answer();
  if (pongs.length > 0) setImmediate(answerBatch);
}

/**
 * Opens one socket. Resolves once it is live (ours: after `ready`; naive: open; Socket.IO: the
 * namespace CONNECT). `onPayload(payload)` gets each notification's bench payload;
 * `onClose(code)` is called if it closes afterwards.
 */
export function openSocket(system, baseUrl, user, token, onPayload, onClose) {
  const { url, protocol } = SYSTEMS[system](baseUrl, user, token);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, OPTIONS);
    let live = false;
    const fail = (reason) => {
      if (live) return;
      live = true; // settled
      ws.terminate();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail('not live within 60 s'), 60_000);
    const goLive = () => {
      clearTimeout(timer);
      live = true;
      resolve(ws);
    };
    ws.on('error', (error) => fail(error.message));
    ws.on('close', (code, reason) => {
      if (live) onClose(code);
      else fail(`closed ${code} ${reason}`);
    });
    ws.on('ping', (data) => answerSoon(() => ws.readyState === WebSocket.OPEN && ws.pong(data)));
    protocol(ws, goLive, fail, onPayload);
  });
}

const SYSTEMS = {
  ours: (base, user, token) => ({
    url: `${base}/ws?token=${token}`,
    protocol(ws, goLive, _fail, onPayload) {
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.event === 'notification') onPayload(frame.data.notification.payload);
        else if (frame.event === 'ready') goLive();
      });
    },
  }),

  naive: (base, user) => ({
    url: `${base}/?uid=${encodeURIComponent(user)}`,
    protocol(ws, goLive, _fail, onPayload) {
      ws.on('open', goLive);
      ws.on('message', (data) => onPayload(JSON.parse(data.toString()).payload));
    },
  }),

  socketio: (base, _user, token) => ({
    url: `${base}/socket.io/?EIO=4&transport=websocket`,
    protocol(ws, goLive, fail, onPayload) {
      const pong = () => ws.readyState === WebSocket.OPEN && ws.send('3');
      ws.on('message', (data) => {
        const text = data.toString();
        // Engine.IO packet type, then for "4" (message) the Socket.IO packet type.
        if (text.startsWith('42')) onPayload(JSON.parse(text.slice(2))[1].payload);
        else if (text === '2')
          answerSoon(pong); // ping → pong
        else if (text.startsWith('0'))
          ws.send(`40${JSON.stringify({ token })}`); // open → CONNECT
        else if (text.startsWith('40'))
          goLive(); // CONNECT accepted
        else if (text.startsWith('44')) fail(`connect refused: ${text.slice(2)}`);
      });
    },
  }),
};
