import { Ajv, type ErrorObject } from 'ajv';

/**
 * The columns the adapter reads from each export file, by header name (positions differ between
 * FY2022, FY2024 and FY2026: FY2026's Client.csv, for one, swaps the gender columns for `Sex`).
 * Columns not named here are never read.
 * @see https://files.hudexchange.info/resources/documents/HMIS-CSV-Format-Specifications-2024.pdf
 */
export interface FileSpec {
  readonly file: string;
  /** The row's own id column. */
  readonly id: string;
  /** Must be present in the header and non-empty on every row. */
  readonly required: readonly string[];
  /** Read when the header has them. */
  readonly optional: readonly string[];
  /** Dates (ISO or not; see hmis-dates.ts). */
  readonly dates: readonly string[];
  /** HUD integer codes. */
  readonly codes: readonly string[];
}

/** Export.csv: the one row describing the export. */
export const EXPORT: FileSpec = {
  file: 'Export.csv',
  id: 'ExportID',
  required: ['ExportID', 'ExportDate'],
  optional: ['CSVVersion'],
  dates: ['ExportDate'],
  codes: [],
};

/** Organization.csv. */
export const ORGANIZATION: FileSpec = {
  file: 'Organization.csv',
  id: 'OrganizationID',
  required: ['OrganizationID'],
  optional: ['OrganizationName', 'DateDeleted'],
  dates: ['DateDeleted'],
  codes: [],
};

/** Project.csv. */
export const PROJECT: FileSpec = {
  file: 'Project.csv',
  id: 'ProjectID',
  required: ['ProjectID', 'OrganizationID'],
  optional: ['ProjectName', 'ProjectType', 'DateDeleted'],
  dates: ['DateDeleted'],
  codes: ['ProjectType'],
};

/** Client.csv: one row per person. */
export const CLIENT: FileSpec = {
  file: 'Client.csv',
  id: 'PersonalID',
  required: ['PersonalID'],
  optional: [
    'FirstName',
    'MiddleName',
    'LastName',
    'NameSuffix',
    'NameDataQuality',
    'SSN',
    'SSNDataQuality',
    'DOB',
    'DOBDataQuality',
    'DateDeleted',
  ],
  dates: ['DOB', 'DateDeleted'],
  codes: ['NameDataQuality', 'SSNDataQuality', 'DOBDataQuality'],
};

/** Enrollment.csv. */
export const ENROLLMENT: FileSpec = {
  file: 'Enrollment.csv',
  id: 'EnrollmentID',
  required: ['EnrollmentID', 'PersonalID', 'ProjectID', 'EntryDate'],
  optional: ['MoveInDate', 'DateDeleted'],
  dates: ['EntryDate', 'MoveInDate', 'DateDeleted'],
  codes: [],
};

/** Exit.csv. */
export const EXIT: FileSpec = {
  file: 'Exit.csv',
  id: 'ExitID',
  required: ['ExitID', 'EnrollmentID', 'PersonalID', 'ExitDate'],
  // HUD requires Destination, but real exports leave it empty; the exit still closes the enrollment.
  optional: ['Destination', 'DateDeleted'],
  dates: ['ExitDate', 'DateDeleted'],
  codes: ['Destination'],
};

/** CurrentLivingSituation.csv. */
export const CURRENT_LIVING_SITUATION: FileSpec = {
  file: 'CurrentLivingSituation.csv',
  id: 'CurrentLivingSitID',
  required: ['CurrentLivingSitID', 'EnrollmentID', 'PersonalID', 'InformationDate', 'CurrentLivingSituation'],
  optional: ['DateDeleted'],
  dates: ['InformationDate', 'DateDeleted'],
  codes: ['CurrentLivingSituation'],
};

/** Services.csv. */
export const SERVICES: FileSpec = {
  file: 'Services.csv',
  id: 'ServicesID',
  required: ['ServicesID', 'EnrollmentID', 'PersonalID', 'DateProvided', 'RecordType', 'TypeProvided'],
  optional: ['DateDeleted'],
  dates: ['DateProvided', 'DateDeleted'],
  codes: ['RecordType', 'TypeProvided'],
};

/** One problem with one column of a row. */
export interface ColumnIssue {
  readonly column: string;
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true });
const validators = new Map<FileSpec, ReturnType<typeof ajv.compile>>();

/**
 * Checks the shape of one row (its non-empty, trimmed values by column): required columns are
 * present and codes are whole numbers. Dates and code lists are checked by the caller, which
 * also turns them into typed values.
 */
export function checkRowShape(spec: FileSpec, values: Readonly<Record<string, string>>): ColumnIssue[] {
  let validate = validators.get(spec);
  if (!validate) {
    validate = ajv.compile({
      type: 'object',
      required: [...spec.required],
      properties: Object.fromEntries(
        [...spec.required, ...spec.optional].map((c) => [
          c,
          spec.codes.includes(c) ? { type: 'string', pattern: '^[0-9]+$' } : { type: 'string', minLength: 1 },
        ]),
      ),
    });
    validators.set(spec, validate);
  }
  return validate(values) ? [] : (validate.errors ?? []).map(toColumnIssue);
}

function toColumnIssue(e: ErrorObject): ColumnIssue {
  if (e.keyword === 'required') {
    return { column: (e.params as { missingProperty: string }).missingProperty, message: 'is required' };
  }
  const column = e.instancePath.slice(1);
  return {
    column,
    message: e.keyword === 'pattern' ? 'must be a whole number (a HUD code)' : (e.message ?? 'is invalid'),
  };
}
