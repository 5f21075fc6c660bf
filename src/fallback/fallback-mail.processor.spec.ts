import { Logger } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import type { FallbackJobData } from '@rtnotify/nestjs';
import { FallbackMailProcessor } from './fallback-mail.processor.js';

const job = (name: string, data: unknown) => ({ name, data }) as Job<FallbackJobData>;

const NOTIFICATION = {
  id: 'e1-7',
  type: 'invoice.due',
  category: 'billing',
  payload: { title: 'Invoice INV-7 for Ada Lovelace', iban: 'DE89 3704 0044 0532 0130 00' },
  createdAt: '2026-12-05T12:00:00.000Z',
  read: false,
  seen: false,
  archived: false,
};

describe(FallbackMailProcessor.name, () => {
  let sut: FallbackMailProcessor;
  let log: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    sut = new FallbackMailProcessor();
    log = vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => vi.restoreAllMocks());

  it('sends (logs) one mail per fallback job: the user and the type, never the payload', async () => {
    await expect(
      sut.process(job('fallback', { userId: 'ada', notification: NOTIFICATION })),
    ).resolves.toEqual({ sent: true });

    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith('fallback for ada: invoice.due');
    expect(JSON.stringify(log.mock.calls)).not.toMatch(/Lovelace|DE89|INV-7/);
  });

  it.each([
    ['another job name', job('notify', { userId: 'ada', notification: NOTIFICATION })],
    ['no user', job('fallback', { notification: NOTIFICATION })],
    ['no notification', job('fallback', { userId: 'ada' })],
    ['a notification without a type', job('fallback', { userId: 'ada', notification: {} })],
    ['no data', job('fallback', undefined)],
  ])('fails %s at once, unretried, and sends nothing', async (_, bad) => {
    await expect(sut.process(bad)).rejects.toBeInstanceOf(UnrecoverableError);
    expect(log).not.toHaveBeenCalled();
  });
});
