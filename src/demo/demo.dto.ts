import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { DEMO_CATEGORIES } from './demo.constants.js';

export class DevTokenBody {
  /** Becomes the user id (`sub`) of the token. */
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/^[\p{L}\p{N}._@-]+$/u, {
    message: 'name may only contain letters, digits, ".", "_", "@" and "-"',
  })
  name: string;
}

export class DevNotifyBody {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  message?: string;

  /** One of the demo's categories. */
  @IsOptional()
  @IsIn(DEMO_CATEGORIES, { message: `category must be one of: ${DEMO_CATEGORIES.join(', ')}` })
  category?: (typeof DEMO_CATEGORIES)[number];
}
