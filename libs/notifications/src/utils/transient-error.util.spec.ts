import { isTransientRedisError } from './transient-error.util.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const named = (message: string, name: string) => Object.assign(new Error(message), { name });

describe(isTransientRedisError.name, () => {
  it.each([
    ['a closed connection', new Error('Connection is closed.')],
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['a refusal named in the message only', new Error('connect ECONNREFUSED 127.0.0.1:6379')],
    [
      'ioredis giving up after maxRetriesPerRequest',
      named(
        'Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.',
        'MaxRetriesPerRequestError',
      ),
    ],
    ['a command timeout', new Error('Command timed out')],
    ['Redis loading its data', new Error('LOADING Redis is loading the dataset in memory')],
    ['a busy script', new Error('BUSY Redis is busy running a script.')],
    ['a failover', new Error("READONLY You can't write against a read only replica.")],
    [
      'a cluster moving slots',
      new Error('TRYAGAIN Multiple keys request during rehashing of slot'),
    ],
    [
      'a slot that moved, in a pipeline ioredis did not redirect',
      new Error('MOVED 3 127.0.0.1:7001'),
    ],
    ['a slot being migrated', new Error('ASK 3 127.0.0.1:7001')],
  ])('is true for %s', (_what, error) => {
    expect(isTransientRedisError(error)).toBe(true);
  });

  it.each([
    ['a script error', new Error('ERR Error running script (call to f_1): @user_script:12: bad')],
    [
      'a wrong type',
      new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
    ],
    ['out of memory (needs an operator, not a retry)', new Error('OOM command not allowed')],
    ['a validation error', new Error('invalid notification job: type must use only a-z')],
    ['a missing lock', new Error('Missing lock for job 1. moveToFinished')],
    ['a script error that mentions MOVED', new Error('ERR MOVED is not a command')],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('is false for %s', (_what, error) => {
    expect(isTransientRedisError(error)).toBe(false);
  });
});
