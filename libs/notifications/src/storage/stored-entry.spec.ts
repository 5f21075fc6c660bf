import { decodeEntry } from './stored-entry.js';

describe(decodeEntry.name, () => {
  const createdMs = Date.parse('2026-12-05T14:51:28.123Z');

  it('rebuilds the JSON a client receives from a plain entry', () => {
    const entry = `57|3|${createdMs}|comment.created||0|{"text":"a|b"}`;

    expect(JSON.parse(decodeEntry('abc', entry))).toEqual({
      createdAt: '2026-12-05T14:51:28.123Z',
      id: 'abc-57',
      type: 'comment.created',
      payload: { text: 'a|b' },
      read: false,
      seen: false,
      archived: false,
    });
  });

  it('keeps the category and the extra fields in the order they are sent', () => {
    const extra = ',"collapsedCount":2,"replaces":"abc-3","collapseKey":"x|,\\"payload\\":"';
    const entry = `9|5|${createdMs}|t|billing|${extra.length}|${extra}{}`;

    const json = decodeEntry('abc', entry);

    expect(json).toBe(
      `{"createdAt":"2026-12-05T14:51:28.123Z","id":"abc-9","type":"t","category":"billing"` +
        `${extra},"payload":{},"read":false,"seen":true,"archived":true}`,
    );
    expect(JSON.parse(json)).toMatchObject({ collapseKey: 'x|,"payload":', collapsedCount: 2 });
  });

  it('refuses what the scripts do not write', () => {
    expect(() => decodeEntry('abc', '{"createdAt":"2026-12-05T14:51:28.123Z"}')).toThrow(
      'a stored notification is malformed',
    );
    expect(() => decodeEntry('abc', `1|8|${createdMs}|t||0|{}`)).toThrow(/malformed/);
  });
});
