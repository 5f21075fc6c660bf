import fc from 'fast-check';
import { validatePlain } from '../utils/validation.util.js';
import { NotifyJobDto } from './notify-job.dto.js';
import { isPlainlyValidNotification, validateNotification } from './notify-job.validation.js';

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
    extra: maybe(fc.anything()),
  },
  { requiredKeys: [] },
);

describe(isPlainlyValidNotification.name, () => {
  it('says yes only to what NotifyJobDto accepts', () => {
    fc.assert(
      fc.property(notification, (data) => {
        const plain = JSON.parse(JSON.stringify(data)) as unknown;
        if (isPlainlyValidNotification(plain)) {
          expect(validatePlain(NotifyJobDto, plain).ok).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
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

  it('leaves the errors to the DTO', () => {
    const result = validateNotification({ userId: 'u1', type: 'NOT OK' });
    expect(result).toMatchObject({ ok: false, errors: [{ field: 'type' }] });
  });
});
