import { ContractLimits } from '@rtnotify/protocol';
import { IsString } from 'class-validator';
import { StringLength, WellFormedId } from '../dto/validators.js';

/** The body of `DELETE /v1/notifications/scheduled`: whose scheduled notification, by dedupe key. */
export class CancelScheduledDto {
  @IsString()
  @StringLength(1, ContractLimits.userIdMaxLength)
  @WellFormedId()
  userId!: string;

  @IsString()
  @StringLength(1, ContractLimits.dedupeKeyMaxLength)
  @WellFormedId()
  dedupeKey!: string;
}
