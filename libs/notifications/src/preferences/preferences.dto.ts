import {
  ContractLimits,
  MAX_PREFERENCE_CATEGORIES_PER_UPDATE,
  type CategoryPreference,
} from '@rtnotify/protocol';
import { registerDecorator, type ValidationArguments } from 'class-validator';

const SETTINGS = new Set<string>(['inApp', 'fallback']);
/** Problems reported at most per body, so that a huge bad body gets a short answer. */
const MAX_PROBLEMS = 10;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);

/** What is wrong with a preferences patch's `categories` (empty: nothing). */
export function categoryPatchProblems(value: unknown): string[] {
  if (!isPlainObject(value))
    return ['categories must be an object of category → {inApp, fallback}'];
  const names = Object.keys(value);
  if (names.length > MAX_PREFERENCE_CATEGORIES_PER_UPDATE) {
    return [`categories must name at most ${MAX_PREFERENCE_CATEGORIES_PER_UPDATE} categories`];
  }
  const problems: string[] = [];
  for (const name of names) {
    if (problems.length >= MAX_PROBLEMS) break;
    const shown = JSON.stringify(name.slice(0, ContractLimits.categoryMaxLength));
    if (
      name.length > ContractLimits.categoryMaxLength ||
      !ContractLimits.categoryPattern.test(name)
    ) {
      problems.push(
        `categories: ${shown} is not a category (1-${ContractLimits.categoryMaxLength} of a-z, 0-9, ".", "_" and "-")`,
      );
      continue;
    }
    if (name in Object.prototype) {
      problems.push(`categories: ${shown} is reserved (a name Object.prototype has)`);
      continue;
    }
    const setting = value[name];
    if (!isPlainObject(setting)) {
      problems.push(`categories.${name} must be an object {inApp?, fallback?}`);
      continue;
    }
    const keys = Object.keys(setting);
    if (keys.length === 0) problems.push(`categories.${name} must set inApp or fallback`);
    for (const key of keys) {
      if (!SETTINGS.has(key)) {
        problems.push(`categories.${name}: property ${key.slice(0, 64)} should not exist`);
      } else if (typeof setting[key] !== 'boolean') {
        problems.push(`categories.${name}.${key} must be a boolean`);
      }
    }
  }
  return problems.slice(0, MAX_PROBLEMS);
}

/** The body of `PATCH /v1/me/preferences`. */
export class UpdatePreferencesDto {
  /** Category → the settings that change (see `categoryPatchProblems`). */
  @CategoryPatch()
  categories!: Record<string, Partial<CategoryPreference>>;
}

function CategoryPatch(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'categoryPatch',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [],
      options: {
        message: ({ value }: ValidationArguments) => categoryPatchProblems(value).join('; '),
      },
      validator: { validate: (value: unknown) => categoryPatchProblems(value).length === 0 },
    });
}
