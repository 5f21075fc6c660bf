import { applyDecorators } from '@nestjs/common';
import { ContractLimits } from '@rtnotify/protocol';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString } from 'class-validator';
import { StringLength, WellFormedId } from '../dto/validators.js';

/**
 * 1–1000 user ids, each 1–128 characters and well-formed, as a job's `userIds`; `notAList` is the
 * message when the value is not a list at all (it says how to send one).
 */
function UserIdList(notAList: string): PropertyDecorator {
  return applyDecorators(
    IsArray({ message: notAList }),
    ArrayMinSize(1, { message: 'userIds must list at least 1 user id' }),
    ArrayMaxSize(ContractLimits.maxUserIds, {
      message: `userIds must list at most ${ContractLimits.maxUserIds} user ids`,
    }),
    IsString({ each: true }),
    StringLength(1, ContractLimits.userIdMaxLength, { each: true }),
    WellFormedId({ each: true }),
  );
}

/** `a,b` (or the parameter repeated) as a list; an empty value is an empty list. */
function listOf(value: unknown): unknown {
  const split = (text: string) => (text === '' ? [] : text.split(','));
  if (typeof value === 'string') return split(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return value.flatMap(split);
  }
  return value;
}

/** `GET v1/presence?userIds=a,b`: 1–1000 user ids, each as a job's user id. */
export class PresenceQuery {
  @Transform(({ value }) => listOf(value))
  @UserIdList('userIds is required: a comma-separated list of user ids')
  userIds!: string[];
}

/** `POST v1/presence` with `{"userIds": [...]}`: the same ids as a JSON array (no URL limit). */
export class PresenceBody {
  @UserIdList('userIds must be a JSON array of user ids')
  userIds!: string[];
}
