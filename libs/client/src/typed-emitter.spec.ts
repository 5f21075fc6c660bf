import { TypedEmitter } from './typed-emitter.js';

interface Events {
  count: number;
  name: string;
}

class Sut extends TypedEmitter<Events> {
  fire<K extends keyof Events>(event: K, data: Events[K]): void {
    this.emit(event, data);
  }
}

describe(TypedEmitter.name, () => {
  it('calls the listeners of an event with its data, until removed', () => {
    const sut = new Sut();
    const counts: number[] = [];
    const off = sut.on('count', (n) => counts.push(n));
    sut.on('name', () => counts.push(-1));

    sut.fire('count', 1);
    off();
    sut.fire('count', 2);

    expect(counts).toEqual([1]);
  });

  it('calls a once listener once', () => {
    const sut = new Sut();
    const names: string[] = [];
    sut.once('name', (name) => names.push(name));

    sut.fire('name', 'a');
    sut.fire('name', 'b');

    expect(names).toEqual(['a']);
  });

  it('keeps calling the other listeners when one throws, and reports the error', () => {
    const sut = new Sut();
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    const seen: number[] = [];
    sut.on('count', () => {
      throw new Error('listener bug');
    });
    sut.on('count', (n) => seen.push(n));

    sut.fire('count', 3);

    expect(seen).toEqual([3]);
    expect(reported).toEqual([new Error('listener bug')]);
    vi.unstubAllGlobals();
  });
});
