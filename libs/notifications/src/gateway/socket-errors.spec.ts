import { closeCodeOfSocketError } from './socket-errors.js';

function wsError(code?: string): Error & { code?: string } {
  return Object.assign(new Error('client error'), { code });
}

describe(closeCodeOfSocketError.name, () => {
  it.each([
    ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
    ['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009],
    ['WS_ERR_INVALID_UTF8', 1007],
    ['WS_ERR_TOO_MANY_BUFFERED_PARTS', 1008],
    ['WS_ERR_INVALID_OPCODE', 1002],
    ['WS_ERR_EXPECTED_MASK', 1002],
    ['WS_ERR_INVALID_CLOSE_CODE', 1002],
  ])('%s: %i', (code, closeCode) => {
    expect(closeCodeOfSocketError(wsError(code))).toBe(closeCode);
  });

  it.each([undefined, 'ECONNRESET', 'EPIPE'])('%s: none', (code) => {
    expect(closeCodeOfSocketError(wsError(code))).toBeUndefined();
  });
});
