import { SeenIds } from './seen-ids.js';

describe(SeenIds.name, () => {
  it('tells a new id from one already seen', () => {
    const sut = new SeenIds();

    expect(sut.add('a-1')).toBe(true);
    expect(sut.add('a-1')).toBe(false);
    expect(sut.has('a-1')).toBe(true);
    expect(sut.has('a-2')).toBe(false);
  });

  it('forgets the oldest ids beyond its capacity', () => {
    const sut = new SeenIds(3);
    for (const id of ['1', '2', '3', '4']) sut.add(id);

    expect(sut.size).toBe(3);
    expect(sut.has('1')).toBe(false);
    expect(['2', '3', '4'].every((id) => sut.has(id))).toBe(true);
  });
});
