import { ContractLimits, INBOX_STATUSES, type InboxStatus } from '@rtnotify/protocol';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

export class ListNotificationsQuery {
  /** Page size, 1–100. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 20;

  /** The `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  before?: string;

  /**
   * Which notifications: `inbox` (everything not archived, the default), `unread`, `unseen`, `read`,
   * `archived` or `all`.
   */
  @IsOptional()
  @IsIn(INBOX_STATUSES, { message: `status must be one of: ${INBOX_STATUSES.join(', ')}` })
  status?: InboxStatus;

  /** Only those of this category. */
  @IsOptional()
  @IsString()
  @Length(1, ContractLimits.categoryMaxLength)
  @Matches(ContractLimits.categoryPattern, {
    message: 'category must use only a-z, 0-9, ".", "_" and "-"',
  })
  category?: string;
}
