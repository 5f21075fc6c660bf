import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import { ContractLimits } from '@rtnotify/protocol';
import {
  ExactlyOneOf,
  IsIsoTimestamp,
  MaxJsonBytes,
  MaxJsonDepth,
  StringLength,
  WellFormedId,
} from './validators.js';

/** The job contract (DESIGN.md): the data of a `notify` job, from any producer. */
export class NotifyJobDto {
  @ExactlyOneOf('userIds')
  @ValidateIf((job: NotifyJobDto) => job.userId !== undefined || job.userIds === undefined)
  @IsString()
  @StringLength(1, ContractLimits.userIdMaxLength)
  @WellFormedId()
  userId?: string;

  @ValidateIf((job: NotifyJobDto) => job.userIds !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ContractLimits.maxUserIds)
  @IsString({ each: true })
  @StringLength(1, ContractLimits.userIdMaxLength, { each: true })
  @WellFormedId({ each: true })
  userIds?: string[];

  @IsString()
  @Length(1, ContractLimits.typeMaxLength)
  @Matches(ContractLimits.typePattern, { message: 'type must use only a-z, 0-9, ".", "_" and "-"' })
  type!: string;

  @ValidateIf((job: NotifyJobDto) => job.payload !== undefined)
  @IsObject()
  @MaxJsonDepth(ContractLimits.payloadMaxDepth)
  @MaxJsonBytes(ContractLimits.payloadMaxBytes)
  payload?: Record<string, unknown>;

  @ValidateIf((job: NotifyJobDto) => job.dedupeKey !== undefined)
  @IsString()
  @StringLength(1, ContractLimits.dedupeKeyMaxLength)
  @WellFormedId()
  dedupeKey?: string;

  @ValidateIf((job: NotifyJobDto) => job.category !== undefined)
  @IsString()
  @Length(1, ContractLimits.categoryMaxLength)
  @Matches(ContractLimits.categoryPattern, {
    message: 'category must use only a-z, 0-9, ".", "_" and "-"',
  })
  category?: string;

  @ValidateIf((job: NotifyJobDto) => job.collapseKey !== undefined)
  @IsString()
  @StringLength(1, ContractLimits.collapseKeyMaxLength)
  @WellFormedId()
  collapseKey?: string;

  /** In the future when enqueued: checked by validateNotification, which knows the time. */
  @ValidateIf((job: NotifyJobDto) => job.expiresAt !== undefined)
  @IsIsoTimestamp()
  expiresAt?: string;

  @ValidateIf((job: NotifyJobDto) => job.critical !== undefined)
  @IsBoolean()
  critical?: boolean;

  @ValidateIf((job: NotifyJobDto) => job.fallbackAfterSeconds !== undefined)
  @IsInt()
  @Min(0)
  @Max(ContractLimits.fallbackAfterMaxSeconds)
  fallbackAfterSeconds?: number;
}

/** The batch form of the job contract (job name `notify-batch`); each item is validated as above. */
export class NotifyBatchJobDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ContractLimits.maxBatchItems)
  @IsObject({ each: true })
  items!: unknown[];
}
