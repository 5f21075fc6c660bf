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
import { ExactlyOneOf, WellFormedId } from './validators.js';

/** `read`: `{ids: [...]}` or `{all: true}`. */
export class ReadFrameDto {
  @ExactlyOneOf('all')
  @ValidateIf((frame: ReadFrameDto) => frame.ids !== undefined || frame.all === undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
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
