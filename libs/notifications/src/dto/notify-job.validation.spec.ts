import fc from 'fast-check';
import { validatePlain } from '../utils/validation.util.js';
import { NotifyBatchJobDto, NotifyJobDto } from './notify-job.dto.js';
import {
  isPlainlyValidBatch,
  isPlainlyValidNotification,
  validateNotification,
} from './notify-job.validation.js';

const id = fc.oneof(
  fc.string({ minLength: 0, maxLength: 130 }),
  fc.string({ unit: 'grapheme', minLength: 60, maxLength: 70 }),
  fc.constantFrom('', 'a', 'x'.repeat(128), 'x'.repeat(129), '😀'.repeat(64), '😀'.repeat(65)),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const notification = fc.record(
  {
    userId: maybe(fc.oneof(id, fc.integer(), fc.constant(null))),
    userIds: maybe(fc.oneof(fc.array(id, { maxLength: 5 }), fc.constant([]), fc.string())),
    type: fc.oneof(
      fc.stringMatching(/^[a-z0-9._-]{1,64}$/),
      fc.string({ maxLength: 70 }),
      fc.constantFrom('', 'A', 'a'.repeat(64), 'a'.repeat(65)),
    ),
    payload: maybe(
      fc.oneof(
        fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
        fc.jsonValue(),
        fc.constant({ big: 'x'.repeat(16_380) }),
      ),
    ),
    dedupeKey: maybe(fc.oneof(id, fc.integer())),
    deliverAt: maybe(
      fc.oneof(
        fc
          .date({
            min: new Date('1970-01-01T00:00:00Z'),
            max: new Date('9999-12-31T23:59:59Z'),
            noInvalidDate: true,
          })
          .map((date) => date.toISOString()),
        fc.stringMatching(
          /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d(:[0-6]\d(\.\d{1,10})?)?(Z|[+-][0-2]\d:[0-6]\d)?$/,
        ),
        fc.string({ maxLength: 30 }),
        fc.constantFrom('2030-02-29T00:00:00Z', '2032-02-29T00:00:00Z', '2030-01-01T24:00Z'),
        fc.integer(),
      ),
    ),
    category: maybe(
      fc.oneof(
        fc.stringMatching(/^[a-z0-9._-]{1,64}$/),
        fc.string({ maxLength: 70 }),
        fc.constantFrom('', 'A', 'a'.repeat(64), 'a'.repeat(65)),
        fc.integer(),
      ),
    ),
    collapseKey: maybe(fc.oneof(id, fc.integer(), fc.constant(null))),
    expiresAt: maybe(
      fc.oneof(
        fc
          .date({
            min: new Date('1970-01-01T00:00:00Z'),
            max: new Date('9999-12-31T23:59:59Z'),
            noInvalidDate: true,
          })
          .map((date) => date.toISOString()),
        fc.stringMatching(
          /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d(:[0-6]\d(\.\d{1,10})?)?(Z|[+-][0-2]\d:[0-6]\d)?$/,
        ),
        fc.string({ maxLength: 30 }),
        fc.constantFrom('2030-02-29T00:00:00Z', '2032-02-29T00:00:00Z', '2030-01-01T24:00Z'),
        fc.integer(),
      ),
    ),
    critical: maybe(fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 'true', null))),
    fallbackAfterSeconds: maybe(
      fc.oneof(
        fc.integer({ min: -2, max: 2_592_002 }),
        fc.double(),
        fc.constantFrom(0, 2_592_000, 2_592_001, -1, 1.5, '60', null, Number.NaN),
      ),
    ),
    extra: maybe(fc.anything()),
  },
  { requiredKeys: [] },
);

/** Mostly valid, each field now and then not: where the quick check says yes, and its edges. */
const usually = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  maybe(fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: invalid }));
const nearlyValid = fc.record(
  {
    userId: fc.oneof(
      { weight: 9, arbitrary: fc.string({ minLength: 1, maxLength: 128 }) },
      { weight: 1, arbitrary: id },
    ),
    type: fc.oneof(
      { weight: 9, arbitrary: fc.stringMatching(/^[a-z0-9._-]{1,64}$/) },
      { weight: 1, arbitrary: fc.string() },
    ),
    payload: usually(
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      fc.jsonValue(),
    ),
    dedupeKey: usually(fc.string({ minLength: 1, maxLength: 128 }), id),
    category: usually(fc.stringMatching(/^[a-z0-9._-]{1,64}$/), fc.string({ maxLength: 70 })),
    collapseKey: usually(fc.string({ minLength: 1, maxLength: 128 }), id),
    critical: usually(fc.boolean(), fc.constantFrom(0, 'true', null)),
    fallbackAfterSeconds: usually(
      fc.integer({ min: 0, max: 2_592_000 }),
      fc.constantFrom(-1, 2_592_001, 0.5, '5'),
    ),
    expiresAt: usually(
      fc
        .date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString()),
      fc.string({ maxLength: 30 }),
    ),
    deliverAt: usually(
      fc
        .date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString()),
      fc.string({ maxLength: 30 }),
    ),
  },
  { requiredKeys: ['userId', 'type'] },
);

describe(isPlainlyValidNotification.name, () => {
  it('says yes only to what NotifyJobDto accepts', () => {
    // How often it said yes with each optional field present, to prove the runs reached them.
    const yesWith = {
      category: 0,
      collapseKey: 0,
      expiresAt: 0,
      deliverAt: 0,
      dedupeKey: 0,
      payload: 0,
    };
    fc.assert(
      fc.property(fc.oneof(notification, nearlyValid), (data) => {
        const plain = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
        if (isPlainlyValidNotification(plain)) {
          expect(validatePlain(NotifyJobDto, plain).ok).toBe(true);
          for (const field of Object.keys(yesWith) as (keyof typeof yesWith)[]) {
            if (plain[field] !== undefined) yesWith[field]++;
          }
        }
      }),
      { numRuns: 3000 },
    );
    for (const [field, count] of Object.entries(yesWith)) {
      expect({ field, reached: count > 0 }).toEqual({ field, reached: true });
    }
  });

  it('says yes to the common valid shapes', () => {
    expect(isPlainlyValidNotification({ userId: 'u1', type: 'comment.created' })).toBe(true);
    expect(
      isPlainlyValidNotification({
        userIds: ['a', 'b'],
        type: 'x',
        payload: { n: 1, deep: { list: [1, 2] } },
        dedupeKey: 'k',
      }),
    ).toBe(true);
  });

  it('says yes to the protocol 1.1 fields', () => {
    expect(
      isPlainlyValidNotification({
        userId: 'u1',
        type: 'comment.created',
        category: 'social',
        collapseKey: 'post:1:comments',
        expiresAt: '2030-01-31T12:00:00Z',
      }),
    ).toBe(true);
  });

  it('leaves the errors to the DTO', () => {
    const result = validateNotification({ userId: 'u1', type: 'NOT OK' });
    expect(result).toMatchObject({ ok: false, errors: [{ field: 'type' }] });
  });
});

describe(isPlainlyValidBatch.name, () => {
  const item = fc.oneof(
    fc.record({ userId: fc.string(), type: fc.string() }),
    fc.object({ maxDepth: 1 }),
    fc.constantFrom(null, [], 'item', 1, true, {}),
  );
  const batch = fc.oneof(
    fc.record({ items: fc.array(item, { maxLength: 4 }) }),
    fc.record({ items: fc.oneof(fc.constant([]), fc.anything()) }),
    fc.record({ items: fc.array(item, { minLength: 1, maxLength: 2 }), extra: fc.anything() }),
    fc.anything(),
    fc.constantFrom(
      { items: Array.from({ length: 1000 }, () => ({})) },
      { items: Array.from({ length: 1001 }, () => ({})) },
    ),
  );

  it('says yes only to what NotifyBatchJobDto accepts', () => {
    let yes = 0;
    fc.assert(
      fc.property(batch, (data) => {
        const json = JSON.stringify(data);
        const plain = json === undefined ? data : (JSON.parse(json) as unknown);
        if (isPlainlyValidBatch(plain)) {
          expect(validatePlain(NotifyBatchJobDto, plain).ok).toBe(true);
          yes++;
        }
      }),
      { numRuns: 3000 },
    );
    expect(yes).toBeGreaterThan(0);
  });

  it('says yes to a batch of notifications, and no to other shapes (the DTO judges those)', () => {
    expect(isPlainlyValidBatch({ items: [{ userId: 'u1', type: 't' }, {}] })).toBe(true);
    expect(isPlainlyValidBatch({ items: Array.from({ length: 1000 }, () => ({})) })).toBe(true);
    for (const refused of [
      { items: [] },
      { items: Array.from({ length: 1001 }, () => ({})) },
      { items: [{}, null] },
      { items: [[]] },
      { items: 'x' },
      { items: [{}], extra: 1 },
      JSON.parse('{"items":[{}],"__proto__":{}}') as unknown,
      Object.assign(Object.create(null) as object, { items: [{}] }),
      [{ items: [{}] }],
    ]) {
      expect(isPlainlyValidBatch(refused)).toBe(false);
    }
  });
});

describe(validateNotification.name, () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('takes an expiresAt later than now, in any zone', () => {
    for (const expiresAt of ['2030-01-01T00:00:00.001Z', '2030-01-01T01:00:01+01:00']) {
      expect(validateNotification({ userId: 'u1', type: 't', expiresAt }, now).ok).toBe(true);
    }
  });

  it.each(['2030-01-01T00:00:00Z', '2029-12-31T23:59:59.999Z', '2030-01-01T01:00:00+01:00'])(
    'rejects expiresAt %s (not in the future), naming it',
    (expiresAt) => {
      expect(validateNotification({ userId: 'u1', type: 't', expiresAt }, now)).toEqual({
        ok: false,
        errors: [{ field: 'expiresAt', messages: ['expiresAt must be in the future'] }],
      });
    },
  );

  describe('deliverAt', () => {
    const job = (deliverAt: string, extra: Record<string, unknown> = {}) =>
      validateNotification({ userId: 'u1', type: 't', dedupeKey: 'k', deliverAt, ...extra }, now);
    const rejection = (message: string) => ({
      ok: false,
      errors: [{ field: 'deliverAt', messages: [message] }],
    });

    it('takes a deliverAt later than now and at most 30 days ahead, in any zone', () => {
      for (const deliverAt of [
        '2030-01-01T00:00:00.001Z',
        '2030-01-01T01:00:01+01:00',
        '2030-01-31T00:00:00Z',
      ]) {
        expect(job(deliverAt).ok).toBe(true);
      }
      expect(job('2030-01-02T00:00:00Z', { expiresAt: '2030-01-02T00:00:01Z' }).ok).toBe(true);
    });

    it.each(['2030-01-01T00:00:00Z', '2029-12-31T23:59:59.999Z', '2030-01-01T01:00:00+01:00'])(
      'rejects deliverAt %s (not in the future), naming it',
      (deliverAt) => {
        expect(job(deliverAt)).toEqual(rejection('deliverAt must be in the future'));
      },
    );

    it.each(['2030-01-31T00:00:00.001Z', '2030-03-01T00:00:00Z'])(
      'rejects deliverAt %s (more than 30 days ahead)',
      (deliverAt) => {
        expect(job(deliverAt)).toEqual(rejection('deliverAt must be at most 30 days ahead'));
      },
    );

    it('rejects a deliverAt that is not before expiresAt', () => {
      for (const expiresAt of ['2030-01-02T00:00:00Z', '2030-01-01T12:00:00Z']) {
        expect(job('2030-01-02T00:00:00Z', { expiresAt })).toEqual(
          rejection('deliverAt must be earlier than expiresAt'),
        );
      }
    });

    it.each(['2030-01-02T00:00:00', '2030-01-02', 'tomorrow', '2030-02-30T00:00:00Z'])(
      'rejects a malformed deliverAt %s as ISO 8601',
      (deliverAt) => {
        const result = job(deliverAt);
        expect(result).toMatchObject({ ok: false, errors: [{ field: 'deliverAt' }] });
        expect(JSON.stringify(result)).toContain('ISO 8601');
      },
    );

    it('rejects a deliverAt that is not a string', () => {
      const result = validateNotification({ userId: 'u1', type: 't', deliverAt: 1 }, now);
      expect(result).toMatchObject({ ok: false, errors: [{ field: 'deliverAt' }] });
    });
  });
});
