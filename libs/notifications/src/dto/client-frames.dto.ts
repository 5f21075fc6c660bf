import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsNumber,
  IsString,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { ContractLimits } from '@rtnotify/protocol';
import { ExactlyOneOf, WellFormedId } from './validators.js';

/** `read`: `{ids: [...]}` or `{all: true}`. */
export class ReadFrameDto {
  @ExactlyOneOf('all')
  @ValidateIf((frame: ReadFrameDto) => frame.ids !== undefined || frame.all === undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ContractLimits.maxReadIds)
  @IsString({ each: true })
  @MaxLength(ContractLimits.notificationIdMaxLength, { each: true })
  @WellFormedId({ each: true })
  ids?: string[];

  @ValidateIf((frame: ReadFrameDto) => frame.all !== undefined)
  @Equals(true)
  all?: true;
}

/** `ping`: no data, or a client timestamp that `pong` echoes (to measure round trips). */
export class PingFrameDto {
  @ValidateIf((frame: PingFrameDto) => frame.ts !== undefined)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  ts?: number;
}
