import { isFrameError, parseClientFrame, type FrameError } from './client-frames.js';

const parse = (frame: unknown) => parseClientFrame(JSON.stringify(frame), false);

const codeOf = (raw: string): FrameError['code'] | undefined => {
  const result = parseClientFrame(raw, false);
  return isFrameError(result) ? result.code : undefined;
};

describe(parseClientFrame.name, () => {
  describe('bad_frame', () => {
    it('rejects binary frames', () => {
      const result = parseClientFrame(Buffer.from('{"event":"ping"}'), true);

      expect(result).toEqual({ code: 'bad_frame', message: expect.any(String) });
    });

    it.each([
      ['invalid JSON', '{"event":'],
      ['an empty frame', ''],
      ['an array', '[{"event":"ping"}]'],
      ['a number', '42'],
      ['null', 'null'],
      ['a string', '"ping"'],
      ['a missing event', '{"data":{}}'],
      ['a non-string event', '{"event":5,"data":{}}'],
      ['a null event', '{"event":null}'],
      ['an extra top-level key', '{"event":"ping","data":{},"extra":1}'],
      ['a top-level __proto__ key', '{"event":"ping","__proto__":{}}'],
    ])('rejects %s', (_, raw) => {
      expect(codeOf(raw)).toBe('bad_frame');
    });

    it('accepts a text frame given as a Buffer', () => {
      expect(parseClientFrame(Buffer.from('{"event":"ping"}'), false)).toEqual({
        event: 'ping',
        data: {},
      });
    });

    it('does not throw on deeply nested input', () => {
      const arrays = '['.repeat(5000) + ']'.repeat(5000);
      const objects = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
      const inData = `{"event":"ping","data":{"ts":1,"x":${arrays}}}`;

      expect(codeOf(arrays)).toBe('bad_frame');
      expect(codeOf(objects)).toBe('bad_frame');
      expect(codeOf(inData)).toBe('invalid_data');
    });
  });

  describe('unknown_event', () => {
    it('rejects an unknown event without echoing its name', () => {
      const result = parse({ event: 'subscribe<script>', data: {} });

      expect(result).toEqual({ code: 'unknown_event', message: expect.any(String) });
      expect((result as FrameError).message).not.toContain('subscribe');
      expect((result as FrameError).message).not.toContain('<script>');
    });

    it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'PING', ''])(
      'treats %j as unknown',
      (event) => {
        expect(parse({ event, data: {} })).toEqual({
          code: 'unknown_event',
          message: expect.any(String),
        });
      },
    );
  });

  describe('ping', () => {
    it('accepts a ping without data', () => {
      expect(parse({ event: 'ping' })).toEqual({ event: 'ping', data: {} });
    });

    it('accepts a ping with empty data', () => {
      expect(parse({ event: 'ping', data: {} })).toEqual({ event: 'ping', data: {} });
    });

    it('echoes ts', () => {
      expect(parse({ event: 'ping', data: { ts: 5 } })).toEqual({ event: 'ping', data: { ts: 5 } });
    });

    it.each([
      ['a string ts', { ts: 'x' }],
      ['an unknown key', { ts: 1, extra: true }],
    ])('rejects %s as invalid_data', (_, data) => {
      expect(parse({ event: 'ping', data })).toEqual({
        code: 'invalid_data',
        message: expect.any(String),
      });
    });

    it('rejects a null ts as invalid_data', () => {
      expect(parse({ event: 'ping', data: { ts: null } })).toMatchObject({ code: 'invalid_data' });
    });

    it('rejects an own __proto__ key in data as invalid_data', () => {
      expect(parseClientFrame('{"event":"ping","data":{"__proto__":{}}}', false)).toEqual({
        code: 'invalid_data',
        message: 'property __proto__ should not exist',
      });
    });

    it('rejects data that is not an object', () => {
      expect(parse({ event: 'ping', data: [] })).toEqual({
        code: 'invalid_data',
        message: expect.any(String),
      });
      expect(parse({ event: 'ping', data: 'x' })).toEqual({
        code: 'invalid_data',
        message: expect.any(String),
      });
    });
  });

  describe('read', () => {
    it('accepts ids', () => {
      expect(parse({ event: 'read', data: { ids: ['a-1', 'a-2'] } })).toEqual({
        event: 'read',
        data: { ids: ['a-1', 'a-2'] },
      });
    });

    it('accepts 1000 ids of 64 chars', () => {
      const ids = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(64, 'x'));

      expect(parse({ event: 'read', data: { ids } })).toEqual({ event: 'read', data: { ids } });
    });

    it('accepts all: true, without an ids key', () => {
      const result = parse({ event: 'read', data: { all: true } });

      expect(result).toEqual({ event: 'read', data: { all: true } });
      expect(isFrameError(result)).toBe(false);
      expect(Object.keys((result as { data: object }).data)).toEqual(['all']);
      expect('ids' in (result as { data: object }).data).toBe(false);
    });

    it.each([
      ['both ids and all', { ids: ['a-1'], all: true }],
      ['neither ids nor all', {}],
      ['all: false', { all: false }],
      ['all: "true"', { all: 'true' }],
      ['1001 ids', { ids: Array.from({ length: 1001 }, (_, i) => `a-${i + 1}`) }],
      ['an id of 65 chars', { ids: ['x'.repeat(65)] }],
      ['a lone surrogate in an id', { ids: ['a-1', 'a-\ud800'] }],
      ['U+FFFD in an id', { ids: ['\ufffd'] }],
      ['empty ids', { ids: [] }],
      ['a non-string id', { ids: [1] }],
      ['ids that is not an array', { ids: 'a-1' }],
      ['an unknown key', { ids: ['a-1'], extra: 1 }],
    ])('rejects %s as invalid_data', (_, data) => {
      expect(parse({ event: 'read', data })).toEqual({
        code: 'invalid_data',
        message: expect.any(String),
      });
    });

    it('rejects a read without data', () => {
      expect(parse({ event: 'read' })).toEqual({
        code: 'invalid_data',
        message: expect.any(String),
      });
    });
  });

  describe('mark', () => {
    it.each(['read', 'unread', 'seen', 'archived', 'unarchived'])(
      'accepts as %s with ids',
      (as) => {
        expect(parse({ event: 'mark', data: { as, ids: ['a-1'] } })).toEqual({
          event: 'mark',
          data: { as, ids: ['a-1'] },
        });
      },
    );

    it('accepts all, with a category and onlyRead', () => {
      expect(parse({ event: 'mark', data: { as: 'archived', all: true, onlyRead: true } })).toEqual(
        {
          event: 'mark',
          data: { as: 'archived', all: true, onlyRead: true },
        },
      );
      expect(
        parse({ event: 'mark', data: { as: 'seen', all: true, category: 'billing' } }),
      ).toEqual({ event: 'mark', data: { as: 'seen', all: true, category: 'billing' } });
    });

    it('leaves onlyRead: false out', () => {
      expect(parse({ event: 'mark', data: { as: 'read', all: true, onlyRead: false } })).toEqual({
        event: 'mark',
        data: { as: 'read', all: true },
      });
    });

    it.each([
      ['no as', { ids: ['a-1'] }, 'as must be one of'],
      ['an unknown as', { as: 'deleted', ids: ['a-1'] }, 'as must be one of'],
      ['as in capitals', { as: 'READ', ids: ['a-1'] }, 'as must be one of'],
      ['neither ids nor all', { as: 'read' }, 'exactly one of ids or all'],
      ['both ids and all', { as: 'read', ids: ['a-1'], all: true }, 'exactly one of ids or all'],
      ['all: false', { as: 'read', all: false }, 'all must be equal to true'],
      ['empty ids', { as: 'read', ids: [] }, 'ids must contain at least 1'],
      [
        '1001 ids',
        { as: 'read', ids: Array.from({ length: 1001 }, (_, i) => `a-${i}`) },
        'ids must contain no more than 1000',
      ],
      ['an id of 65 chars', { as: 'read', ids: ['x'.repeat(65)] }, 'ids must be shorter'],
      [
        'a category with ids',
        { as: 'read', ids: ['a-1'], category: 'billing' },
        'category may only be given with all',
      ],
      [
        'onlyRead with ids',
        { as: 'archived', ids: ['a-1'], onlyRead: true },
        'onlyRead may only be given with all',
      ],
      ['a bad category', { as: 'read', all: true, category: 'Bill ing' }, 'category must use only'],
      ['an empty category', { as: 'read', all: true, category: '' }, 'category must be'],
      [
        'a non-boolean onlyRead',
        { as: 'archived', all: true, onlyRead: 'yes' },
        'onlyRead must be a boolean',
      ],
      [
        'an unknown key',
        { as: 'read', all: true, before: 'a-1' },
        'property before should not exist',
      ],
    ])('rejects %s as invalid_data, saying why', (_, data, message) => {
      const result = parse({ event: 'mark', data });

      expect(result).toMatchObject({ code: 'invalid_data' });
      expect((result as FrameError).message).toContain(message);
    });

    it('rejects a mark without data', () => {
      expect(parse({ event: 'mark' })).toMatchObject({ code: 'invalid_data' });
    });
  });
});

describe(isFrameError.name, () => {
  it('tells errors from frames', () => {
    expect(isFrameError({ code: 'bad_frame', message: 'x' })).toBe(true);
    expect(isFrameError({ event: 'ping', data: {} })).toBe(false);
  });
});
