/** `cluster-key-slot` (the hash-slot function ioredis itself uses) ships no types of its own. */
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0-16383) of a key or shard channel, honouring `{hash tags}`. */
  function calculateSlot(key: string | Buffer): number;
  export = calculateSlot;
}
