import { ConnectionRegistry, type RegisteredConnection } from './connection.registry.js';

const connection = (userId: string): RegisteredConnection => ({ userId });

describe(ConnectionRegistry.name, () => {
  let sut: ConnectionRegistry;

  beforeEach(() => {
    sut = new ConnectionRegistry();
  });

  it('starts empty', () => {
    expect(sut.connectionCount).toBe(0);
    expect(sut.userCount).toBe(0);
    expect(sut.has('alice')).toBe(false);
    expect(sut.countOf('alice')).toBe(0);
    expect(sut.connectionsOf('alice').size).toBe(0);
    expect([...sut.all()]).toEqual([]);
  });

  describe('add', () => {
    it('registers connections per user', () => {
      const a1 = connection('alice');
      const a2 = connection('alice');
      const b1 = connection('bob');

      expect(sut.add(a1)).toBe(true);
      expect(sut.add(a2)).toBe(true);
      expect(sut.add(b1)).toBe(true);

      expect(sut.connectionCount).toBe(3);
      expect(sut.userCount).toBe(2);
      expect(sut.has('alice')).toBe(true);
      expect(sut.has('bob')).toBe(true);
      expect(sut.has('carol')).toBe(false);
      expect(sut.countOf('alice')).toBe(2);
      expect(sut.countOf('bob')).toBe(1);
      expect([...sut.connectionsOf('alice')]).toEqual([a1, a2]);
      expect([...sut.connectionsOf('bob')]).toEqual([b1]);
      expect(new Set(sut.all())).toEqual(new Set([a1, a2, b1]));
      expect([...sut.all()]).toHaveLength(3);
    });

    it('is idempotent for the same connection', () => {
      const a1 = connection('alice');

      expect(sut.add(a1)).toBe(true);
      expect(sut.add(a1)).toBe(true);

      expect(sut.connectionCount).toBe(1);
      expect(sut.countOf('alice')).toBe(1);
      expect([...sut.all()]).toEqual([a1]);
    });

    it('refuses the connection past maxPerUser for that user only', () => {
      for (let i = 0; i < 10; i++) {
        expect(sut.add(connection('alice'), 10)).toBe(true);
      }

      expect(sut.add(connection('alice'), 10)).toBe(false);
      expect(sut.countOf('alice')).toBe(10);

      expect(sut.add(connection('bob'), 10)).toBe(true);
      expect(sut.countOf('bob')).toBe(1);
      expect(sut.connectionCount).toBe(11);
    });

    it('still accepts a connection already registered when the user is at the limit', () => {
      const a1 = connection('alice');
      sut.add(a1, 1);

      expect(sut.add(a1, 1)).toBe(true);
      expect(sut.connectionCount).toBe(1);
    });

    it('accepts again once a connection of a full user is removed', () => {
      const a1 = connection('alice');
      sut.add(a1, 1);
      expect(sut.add(connection('alice'), 1)).toBe(false);

      sut.remove(a1);

      expect(sut.add(connection('alice'), 1)).toBe(true);
    });
  });

  describe('remove', () => {
    it('removes a connection and forgets a user with none left', () => {
      const a1 = connection('alice');
      const a2 = connection('alice');
      sut.add(a1);
      sut.add(a2);

      expect(sut.remove(a1)).toBe(true);
      expect(sut.countOf('alice')).toBe(1);
      expect(sut.has('alice')).toBe(true);

      expect(sut.remove(a2)).toBe(true);
      expect(sut.has('alice')).toBe(false);
      expect(sut.userCount).toBe(0);
      expect(sut.connectionCount).toBe(0);
      expect(sut.connectionsOf('alice').size).toBe(0);
    });

    it('is harmless when removing twice', () => {
      const a1 = connection('alice');
      const a2 = connection('alice');
      sut.add(a1);
      sut.add(a2);

      expect(sut.remove(a1)).toBe(true);
      expect(sut.remove(a1)).toBe(false);

      expect(sut.connectionCount).toBe(1);
      expect(sut.countOf('alice')).toBe(1);
    });

    it('is harmless for a connection never added', () => {
      sut.add(connection('alice'));

      expect(sut.remove(connection('alice'))).toBe(false);
      expect(sut.remove(connection('bob'))).toBe(false);

      expect(sut.connectionCount).toBe(1);
      expect(sut.userCount).toBe(1);
      expect(sut.has('bob')).toBe(false);
    });

    it('keeps every connection of a user through one, two, three and back to one', () => {
      const [a1, a2, a3] = [connection('alice'), connection('alice'), connection('alice')];
      sut.add(a1);
      sut.add(a2);
      sut.add(a3);

      sut.remove(a2);
      expect([...sut.connectionsOf('alice')]).toEqual([a1, a3]);
      sut.remove(a1);
      expect([...sut.connectionsOf('alice')]).toEqual([a3]);
      expect(sut.remove(a1)).toBe(false);
      expect(sut.add(a3)).toBe(true);
      expect(sut.countOf('alice')).toBe(1);

      sut.add(a1);
      expect([...sut.connectionsOf('alice')]).toEqual([a3, a1]);
      expect([...sut.all()]).toEqual([a3, a1]);
      expect(sut.connectionCount).toBe(2);
    });
  });

  describe('forEachOf', () => {
    it("visits each of the user's connections, a lone one too, and no one else's", () => {
      const [a1, a2, b1] = [connection('alice'), connection('alice'), connection('bob')];
      sut.add(a1);
      sut.add(b1);
      const visited = (userId: string) => {
        const seen: RegisteredConnection[] = [];
        sut.forEachOf(userId, (c) => seen.push(c));
        return seen;
      };

      expect(visited('alice')).toEqual([a1]);
      sut.add(a2);
      expect(visited('alice')).toEqual([a1, a2]);
      expect(visited('bob')).toEqual([b1]);
      expect(visited('carol')).toEqual([]);
    });
  });
});
