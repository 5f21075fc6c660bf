import { validatePlain, type ValidationOutcome } from '../utils/validation.util.js';
import { NotifyJobDto } from './notify-job.dto.js';

const validate = (plain: unknown): ValidationOutcome<NotifyJobDto> =>
  validatePlain(NotifyJobDto, plain);

/** The `field` of each error, or fails the test when the job was valid. */
const fieldsOf = (plain: unknown): string[] => {
  const result = validate(plain);
  if (result.ok) throw new Error(`expected errors for ${JSON.stringify(plain)}`);
  return result.errors.map((error) => error.field);
};

const messagesOf = (plain: unknown): string[] => {
  const result = validate(plain);
  if (result.ok) throw new Error(`expected errors for ${JSON.stringify(plain)}`);
  return result.errors.flatMap((error) => error.messages);
};

/** A payload whose JSON serialization is exactly `bytes` bytes long. */
const payloadOfBytes = (bytes: number): Record<string, unknown> => {
  const overhead = JSON.stringify({ d: '' }).length;
  return { d: 'x'.repeat(bytes - overhead) };
};

describe(NotifyJobDto.name, () => {
  describe('valid jobs', () => {
    it('accepts a job for one user', () => {
      const job = { userId: 'u1', type: 'comment.created', payload: { a: 1 }, dedupeKey: 'k' };

      const result = validate(job);

      expect(result).toEqual({ ok: true, value: expect.any(NotifyJobDto) });
      expect(result.ok ? result.value : undefined).toEqual(job);
    });

    it('accepts a job for several users', () => {
      const result = validate({ userIds: ['u1', 'u2'], type: 'a_b-c.d9' });

      expect(result.ok).toBe(true);
    });

    it('accepts 128-char user ids and 1000 recipients', () => {
      const userIds = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(128, 'x'));

      expect(validate({ userIds, type: 't' }).ok).toBe(true);
      expect(validate({ userId: 'u'.repeat(128), type: 't' }).ok).toBe(true);
    });

    it('accepts a payload of exactly 16384 bytes as JSON', () => {
      const payload = payloadOfBytes(16_384);
      expect(Buffer.byteLength(JSON.stringify(payload))).toBe(16_384);

      expect(validate({ userId: 'u1', type: 't', payload }).ok).toBe(true);
    });

    it('accepts a type of 64 chars', () => {
      expect(validate({ userId: 'u1', type: 't'.repeat(64) }).ok).toBe(true);
    });
  });

  describe('recipients', () => {
    it('rejects both userId and userIds, naming both', () => {
      const job = { userId: 'u1', userIds: ['u2'], type: 't' };

      expect(fieldsOf(job)).toEqual(['userId']);
      expect(messagesOf(job)).toEqual(['exactly one of userId or userIds is required']);
    });

    it('rejects a job with neither userId nor userIds', () => {
      const job = { type: 't' };

      expect(fieldsOf(job)).toEqual(['userId']);
      expect(messagesOf(job)).toContain('exactly one of userId or userIds is required');
    });

    it('rejects a userId of 129 chars', () => {
      expect(fieldsOf({ userId: 'u'.repeat(129), type: 't' })).toEqual(['userId']);
    });

    it.each(['\ud800', '\udfff', '\ufffd', 'user-\ud83d'])(
      'rejects the ill-formed user id %j, in userId, in userIds and as a dedupeKey',
      (id) => {
        expect(fieldsOf({ userId: id, type: 't' })).toEqual(['userId']);
        expect(messagesOf({ userId: id, type: 't' })).toEqual([
          'userId must be well-formed Unicode (no lone surrogates, no U+FFFD)',
        ]);
        expect(fieldsOf({ userIds: ['ok', id], type: 't' })).toEqual(['userIds']);
        expect(fieldsOf({ userId: 'u1', type: 't', dedupeKey: id })).toEqual(['dedupeKey']);
      },
    );

    it('accepts ids with astral characters', () => {
      expect(validate({ userId: '😀', userIds: undefined, type: 't', dedupeKey: '𝄞' }).ok).toBe(
        true,
      );
    });

    it('rejects an empty userId', () => {
      expect(fieldsOf({ userId: '', type: 't' })).toEqual(['userId']);
    });

    it('rejects a non-string userId', () => {
      expect(fieldsOf({ userId: 42, type: 't' })).toEqual(['userId']);
    });

    it('rejects 1001 userIds', () => {
      const userIds = Array.from({ length: 1001 }, (_, i) => `u${i}`);

      expect(fieldsOf({ userIds, type: 't' })).toEqual(['userIds']);
    });

    it('rejects empty userIds', () => {
      expect(fieldsOf({ userIds: [], type: 't' })).toEqual(['userIds']);
    });

    it('rejects a non-string among userIds', () => {
      expect(fieldsOf({ userIds: ['u1', 7], type: 't' })).toEqual(['userIds']);
    });

    it('rejects an empty or overlong string among userIds', () => {
      expect(fieldsOf({ userIds: ['u1', ''], type: 't' })).toEqual(['userIds']);
      expect(fieldsOf({ userIds: ['u1', 'u'.repeat(129)], type: 't' })).toEqual(['userIds']);
    });

    it('rejects userIds that is not an array', () => {
      expect(fieldsOf({ userIds: 'u1', type: 't' })).toEqual(['userIds']);
    });
  });

  describe('type', () => {
    it.each([
      ['uppercase', 'Comment.created'],
      ['a space', 'comment created'],
      ['65 chars', 't'.repeat(65)],
      ['empty', ''],
      ['a slash', 'a/b'],
    ])('rejects a type with %s', (_, type) => {
      expect(fieldsOf({ userId: 'u1', type })).toEqual(['type']);
    });

    it('rejects a missing type', () => {
      expect(fieldsOf({ userId: 'u1' })).toEqual(['type']);
    });

    it('rejects a non-string type', () => {
      expect(fieldsOf({ userId: 'u1', type: 5 })).toEqual(['type']);
    });
  });

  describe('payload', () => {
    it.each([
      ['an array', [1, 2]],
      ['a string', 'hello'],
      ['a number', 1],
    ])('rejects %s', (_, payload) => {
      expect(fieldsOf({ userId: 'u1', type: 't', payload })).toEqual(['payload']);
    });

    it('rejects a payload of 16385 bytes as JSON', () => {
      const payload = payloadOfBytes(16_385);
      expect(Buffer.byteLength(JSON.stringify(payload))).toBe(16_385);

      expect(fieldsOf({ userId: 'u1', type: 't', payload })).toEqual(['payload']);
    });

    it('counts bytes, not characters', () => {
      // "é" is 2 bytes in UTF-8: 8 bytes of `{"d":""}` + 8189 * 2 = 16386 bytes in 8197 chars.
      const payload = { d: 'é'.repeat(8189) };

      expect(fieldsOf({ userId: 'u1', type: 't', payload })).toEqual(['payload']);
    });
  });

  describe('dedupeKey', () => {
    it('accepts 128 chars', () => {
      expect(validate({ userId: 'u1', type: 't', dedupeKey: 'k'.repeat(128) }).ok).toBe(true);
    });

    it('rejects 129 chars', () => {
      expect(fieldsOf({ userId: 'u1', type: 't', dedupeKey: 'k'.repeat(129) })).toEqual([
        'dedupeKey',
      ]);
    });

    it('rejects an empty or non-string dedupeKey', () => {
      expect(fieldsOf({ userId: 'u1', type: 't', dedupeKey: '' })).toEqual(['dedupeKey']);
      expect(fieldsOf({ userId: 'u1', type: 't', dedupeKey: 1 })).toEqual(['dedupeKey']);
    });
  });

  describe('category', () => {
    it('accepts [a-z0-9._-] of 1-64 chars', () => {
      for (const category of ['billing', 'a', 'team.alerts_2-x', 'c'.repeat(64)]) {
        expect({ category, ok: validate({ userId: 'u1', type: 't', category }).ok }).toEqual({
          category,
          ok: true,
        });
      }
    });

    it.each([
      ['empty', ''],
      ['65 chars', 'c'.repeat(65)],
      ['uppercase', 'Billing'],
      ['a space', 'a b'],
      ['a colon', 'a:b'],
      ['a number', 5],
      ['null', null],
    ])('rejects a category that is %s, naming it', (_, category) => {
      expect(fieldsOf({ userId: 'u1', type: 't', category })).toEqual(['category']);
    });
  });

  describe('collapseKey', () => {
    it('accepts any string of 1-128 chars', () => {
      for (const collapseKey of ['k', 'post:1 "comments"', 'k'.repeat(128), '😀'.repeat(64)]) {
        expect(validate({ userId: 'u1', type: 't', collapseKey }).ok).toBe(true);
      }
    });

    it.each([
      ['empty', ''],
      ['129 chars', 'k'.repeat(129)],
      ['a number', 1],
      ['an array', ['k']],
    ])('rejects a collapseKey that is %s, naming it', (_, collapseKey) => {
      expect(fieldsOf({ userId: 'u1', type: 't', collapseKey })).toEqual(['collapseKey']);
    });
  });

  describe('critical', () => {
    it.each([true, false])('accepts %s', (critical) => {
      expect(validate({ userId: 'u1', type: 't', critical }).ok).toBe(true);
    });

    it.each([
      ['a string', 'true'],
      ['a number', 1],
      ['null', null],
    ])('rejects critical that is %s, naming it', (_, critical) => {
      expect(fieldsOf({ userId: 'u1', type: 't', critical })).toEqual(['critical']);
    });
  });

  describe('fallbackAfterSeconds', () => {
    it.each([0, 1, 2_592_000])('accepts %s', (fallbackAfterSeconds) => {
      expect(validate({ userId: 'u1', type: 't', fallbackAfterSeconds }).ok).toBe(true);
    });

    it.each([
      ['negative', -1],
      ['over 30 days', 2_592_001],
      ['a fraction', 1.5],
      ['a string', '60'],
      ['null', null],
    ])('rejects fallbackAfterSeconds that is %s, naming it', (_, fallbackAfterSeconds) => {
      expect(fieldsOf({ userId: 'u1', type: 't', fallbackAfterSeconds })).toEqual([
        'fallbackAfterSeconds',
      ]);
    });
  });

  describe('expiresAt', () => {
    it.each([
      '2030-01-31T12:00:00Z',
      '2030-01-31T12:00Z',
      '2030-01-31T12:00:00.123Z',
      '2030-01-31T12:00:00.123456789+05:30',
      '2032-02-29T00:00:00-08:00',
    ])('accepts %s', (expiresAt) => {
      expect(validate({ userId: 'u1', type: 't', expiresAt }).ok).toBe(true);
    });

    it.each([
      ['a date without a time', '2030-01-31'],
      ['a time without a zone', '2030-01-31T12:00:00'],
      ['a day that does not exist', '2030-02-29T12:00:00Z'],
      ['a month that does not exist', '2030-13-01T12:00:00Z'],
      ['hour 24', '2030-01-31T24:00:00Z'],
      ['a zone past 23 hours', '2030-01-31T12:00:00+24:00'],
      ['a space for the T', '2030-01-31 12:00:00Z'],
      ['an epoch number', 1_900_000_000_000],
      ['words', 'tomorrow'],
      ['empty', ''],
    ])('rejects %s, naming it', (_, expiresAt) => {
      expect(fieldsOf({ userId: 'u1', type: 't', expiresAt })).toEqual(['expiresAt']);
      expect(messagesOf({ userId: 'u1', type: 't', expiresAt })[0]).toContain('ISO 8601');
    });
  });

  describe('unknown properties', () => {
    it('reports an unknown property', () => {
      const job = { userId: 'u1', type: 't', x: 1 };

      expect(fieldsOf(job)).toEqual(['x']);
      expect(messagesOf(job)).toEqual(['property x should not exist']);
    });

    it('names every offending field at once', () => {
      expect(fieldsOf({ userId: 'u1', type: 'BAD', payload: [], x: 1 }).sort()).toEqual([
        'payload',
        'type',
        'x',
      ]);
    });

    it('does not let a __proto__ key change any prototype', () => {
      const plain: unknown = JSON.parse(
        '{"__proto__": {"polluted": true}, "userId": "u1", "type": "t"}',
      );

      const result = validate(plain);

      expect(({} as any).polluted).toBeUndefined();
      expect((Object.prototype as any).polluted).toBeUndefined();
      expect((NotifyJobDto.prototype as any).polluted).toBeUndefined();
      if (result.ok) {
        expect(Object.getPrototypeOf(result.value)).toBe(NotifyJobDto.prototype);
        expect((result.value as any).polluted).toBeUndefined();
      }
    });

    it.each(['__proto__', 'constructor', 'hasOwnProperty', 'isPrototypeOf'])(
      'reports an own %s key as an unknown property',
      (key) => {
        const plain: unknown = JSON.parse(
          `{"${key}": {"polluted": true}, "userId": "u1", "type": "t"}`,
        );

        const result = validate(plain);

        expect(result).toEqual({
          ok: false,
          errors: [{ field: key, messages: [`property ${key} should not exist`] }],
        });
      },
    );
  });

  describe('non-object root', () => {
    it.each([
      ['null', null],
      ['an array', [{ userId: 'u1', type: 't' }]],
      ['a string', 'u1'],
      ['a number', 1],
      ['undefined', undefined],
    ])('rejects %s as (root)', (_, plain) => {
      expect(validate(plain)).toEqual({
        ok: false,
        errors: [{ field: '(root)', messages: ['must be a JSON object'] }],
      });
    });
  });
});
