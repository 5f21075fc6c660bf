/** The default path of the WebSocket endpoint, on the HTTP port (servers may configure another). */
export const DEFAULT_SOCKET_PATH = '/ws';

/**
 * The subprotocol that announces a token in the next subprotocol entry: a client opens the socket
 * with the protocols `["bearer", "<jwt>"]` and the server answers with `bearer`. Keeps tokens out of
 * URLs and logs.
 */
export const BEARER_PROTOCOL = 'bearer';

/** The query parameter that carries the token when subprotocols cannot (proxies that drop them). */
export const TOKEN_QUERY_PARAM = 'token';

/** The query parameter that carries the last notification id the client saw, to resume after it. */
export const SINCE_QUERY_PARAM = 'since';
