/** Columns of an EVV visit export, modelled on state EVV aggregator visit files. */
export const EVV_COLUMNS = [
  'VisitID',
  'MedicaidID',
  'MemberID',
  'ServiceCode',
  'CaregiverID',
  'ScheduledStart',
  'ScheduledEnd',
  'ActualStart',
  'ActualEnd',
  'VisitStatus',
  'ExceptionCode',
  'Timezone',
] as const;
export type EvvColumn = (typeof EVV_COLUMNS)[number];

/** Columns every export must have (MedicaidID or MemberID is checked per row). */
export const REQUIRED_COLUMNS: readonly EvvColumn[] = [
  'VisitID',
  'ServiceCode',
  'ScheduledStart',
  'ScheduledEnd',
  'VisitStatus',
];

/**
 * What the hub makes of a visit: `missed` covers both a status the partner calls missed and a
 * scheduled visit nobody checked in to; `in-progress` is checked in but not yet out.
 */
export type VisitOutcome = 'completed' | 'missed' | 'cancelled' | 'in-progress';

/** One EVV visit, validated; date-times are FHIR `dateTime`s with a UTC offset. */
export interface EvvVisit {
  readonly visitId: string;
  readonly medicaidId?: string;
  readonly memberId?: string;
  /** HCPCS procedure code, modifiers appended with dashes. */
  readonly serviceCode: string;
  readonly caregiverId?: string;
  readonly scheduledStart: string;
  readonly scheduledEnd: string;
  /** Check-in. */
  readonly actualStart?: string;
  /** Check-out. */
  readonly actualEnd?: string;
  /** The status code as the partner sent it. */
  readonly visitStatus: string;
  readonly exceptionCode?: string;
  readonly outcome: VisitOutcome;
  /** Why a missed visit counts as missed. */
  readonly missedBecause?: 'status' | 'no-check-in';
}
