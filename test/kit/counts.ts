/** The line each fault case ends with: what was sent, stored and delivered, and what went wrong. */
export interface FaultCounts {
  sent: number;
  stored: number;
  delivered: number;
  lost: number;
  duplicated: number;
}

export function reportCounts(name: string, counts: FaultCounts): void {
  console.log(
    `[fault] ${name}: sent ${counts.sent}, stored ${counts.stored}, delivered ${counts.delivered}, ` +
      `lost ${counts.lost}, duplicated ${counts.duplicated}`,
  );
}
