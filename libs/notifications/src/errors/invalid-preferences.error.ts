/** A preferences change named a bad category or setting; nothing was changed. */
export class InvalidPreferencesError extends Error {
  override readonly name = 'InvalidPreferencesError';

  constructor(readonly problems: string[]) {
    super(`invalid preferences: ${problems.join('; ')}`);
  }
}
