import type { ParseResult } from '../types.js';
import type { LivingSituationCategory } from './hud-lists.js';

/**
 * One client of a HUD HMIS CSV export with everything the export says about them. Plain JSON
 * (records travel through Redis): dates are ISO strings (`YYYY-MM-DD`), codes are HUD's numbers
 * with HUD's display text. Rows of other files that failed validation are not here: they are
 * rejected records of their own.
 */
export interface HmisClientRecord {
  /** Client.csv PersonalID: the HMIS's own id of the person. */
  readonly personalId: string;
  readonly export: HmisExportInfo;
  readonly name: HmisName;
  /** Client.csv SSN as sent (may be partial, e.g. `888888`); use only with `ssnDataQuality` 1. */
  readonly ssn?: string;
  readonly ssnDataQuality?: number;
  readonly dob?: string;
  readonly dobDataQuality?: number;
  readonly enrollments: readonly HmisEnrollment[];
}

/** From Export.csv: which export the record came from. */
export interface HmisExportInfo {
  readonly exportId: string;
  /** e.g. `2024 v1.3`, `2026 v1.0`. */
  readonly csvVersion?: string;
  readonly exportDate: string;
  /** ExportDate with its time of day when it has one (`YYYY-MM-DDTHH:MM:SS`, no zone): the export's moment. */
  readonly exportedAt: string;
}

/** Client.csv name fields; `dataQuality` is NameDataQuality (1 full, 2 partial, 8, 9, 99). */
export interface HmisName {
  readonly first?: string;
  readonly middle?: string;
  readonly last?: string;
  readonly suffix?: string;
  readonly dataQuality?: number;
}

/** A HUD living situation code (list 3.12.1), resolved. */
export interface HmisLivingSituation {
  readonly code: number;
  readonly display: string;
  readonly category: LivingSituationCategory;
}

/** One Enrollment.csv row: a stay in one project, with what happened during it. */
export interface HmisEnrollment {
  readonly enrollmentId: string;
  readonly entryDate: string;
  readonly moveInDate?: string;
  readonly projectId: string;
  /** From Project.csv and Organization.csv, when the export has them. */
  readonly project?: HmisProject;
  readonly exit?: HmisExit;
  readonly currentLivingSituations: readonly HmisCurrentLivingSituation[];
  readonly services: readonly HmisService[];
}

/** Project.csv (ProjectType, list 2.02.6) with its Organization.csv name. */
export interface HmisProject {
  readonly name?: string;
  readonly type?: { readonly code: number; readonly display: string };
  readonly organizationId: string;
  readonly organizationName?: string;
}

/** The Exit.csv row of an enrollment. */
export interface HmisExit {
  readonly exitId: string;
  readonly exitDate: string;
  /** Absent when the exit row leaves Destination empty. */
  readonly destination?: HmisLivingSituation;
}

/** One CurrentLivingSituation.csv row (4.12): where the person stays, as of InformationDate. */
export interface HmisCurrentLivingSituation {
  readonly currentLivingSitId: string;
  readonly informationDate: string;
  readonly situation: HmisLivingSituation;
}

/** One Services.csv row: RecordType (list 1.4) and TypeProvided (a list per record type). */
export interface HmisService {
  readonly servicesId: string;
  readonly dateProvided: string;
  readonly recordType: { readonly code: number; readonly display: string };
  readonly typeProvided: number;
}

/**
 * A row the adapter read and deliberately did not use: it carries DateDeleted, or belongs to a
 * client or enrollment that does. Neither accepted (nothing to write) nor rejected (nothing to fix
 * or replay), so it is listed here to be counted and reported.
 */
export interface SkippedRow {
  /** `Enrollment.csv row 4`. */
  readonly location: string;
  /** The row's own id (EnrollmentID, ExitID, ...), when it has one. */
  readonly sourceId?: string;
  readonly reason: 'deleted' | 'parent-deleted';
  /** For `parent-deleted`: the deleted row it belongs to, e.g. `Client.csv row 3`. */
  readonly parent?: string;
}

/** The adapter's answer: the usual accepted/rejected lists plus the rows skipped as deleted. */
export interface HmisParseResult extends ParseResult<HmisClientRecord> {
  readonly skipped: readonly SkippedRow[];
}
