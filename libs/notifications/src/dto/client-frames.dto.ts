import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsNumber,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { ContractLimits, MARK_AS, type MarkAs, type MarkEventData } from '@rtnotify/protocol';
import { ExactlyOneOf, OnlyWith, WellFormedId } from './validators.js';

/** What `read` and `mark` select: `{ids: [...]}` or `{all: true}`. */
class IdsOrAllDto {
  @ExactlyOneOf('all')
  @ValidateIf((frame: IdsOrAllDto) => frame.ids !== undefined || frame.all === undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ContractLimits.maxReadIds)
  @IsString({ each: true })
  @MaxLength(ContractLimits.notificationIdMaxLength, { each: true })
  @WellFormedId({ each: true })
  ids?: string[];

  @ValidateIf((frame: IdsOrAllDto) => frame.all !== undefined)
  @Equals(true)
  all?: true;
}

/** `read`: `{ids: [...]}` or `{all: true}`. */
export class ReadFrameDto extends IdsOrAllDto {}

/** `ping`: no data, or a client timestamp that `pong` echoes (to measure round trips). */
export class PingFrameDto {
  @ValidateIf((frame: PingFrameDto) => frame.ts !== undefined)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  ts?: number;
}

/**
 * `mark` (protocol 1.1), also the body of `POST /v1/me/notifications/mark`: `{as, ids}` or
 * `{as, all: true, category?, onlyRead?}`.
 */
export class MarkFrameDto extends IdsOrAllDto {
  @IsIn(MARK_AS, { message: `as must be one of: ${MARK_AS.join(', ')}` })
  as!: MarkAs;

  @OnlyWith('all')
  @ValidateIf((frame: MarkFrameDto) => frame.category !== undefined)
  @IsString()
  @Length(1, ContractLimits.categoryMaxLength)
  @Matches(ContractLimits.categoryPattern, {
    message: 'category must use only a-z, 0-9, ".", "_" and "-"',
  })
  category?: string;

  @OnlyWith('all')
  @ValidateIf((frame: MarkFrameDto) => frame.onlyRead !== undefined)
  @IsBoolean()
  onlyRead?: boolean;
}

/** What a validated `mark` selects, without the DTO's undefined fields. */
export function markSelectionOf(frame: MarkFrameDto): MarkEventData {
  if (!frame.all) return { as: frame.as, ids: frame.ids ?? [] };
  const selection: MarkEventData = { as: frame.as, all: true };
  if (frame.category !== undefined) selection.category = frame.category;
  if (frame.onlyRead) selection.onlyRead = true;
  return selection;
}
