/**
 * The HUD HMIS code lists the adapter validates against and resolves codes with, from the HMIS
 * CSV Format Specifications FY2024 (v1.x) and FY2026 (v1.0), Appendix B "Lists". Both versions
 * share these lists.
 * @see https://files.hudexchange.info/resources/documents/HMIS-CSV-Format-Specifications-2024.pdf
 */

/**
 * HUD's grouping of living situations (the 100/200/300/400 blocks of the FY2024 list). `unknown`
 * is ours: the HUD "Other" answers that say nothing about where the person lives (8, 9, 99, 30,
 * 37); 17 "Other" and 24 "Deceased" stay `other`.
 */
export type LivingSituationCategory =
  'homeless' | 'institutional' | 'temporary' | 'permanent' | 'other' | 'unknown';

interface LivingSituationEntry {
  readonly display: string;
  readonly category: LivingSituationCategory;
}

/**
 * List 3.12.1 "Living Situation Option List": one list for prior living situation (3.917),
 * destination (3.12) and current living situation (4.12); each element uses a subset of it.
 */
export const LIVING_SITUATIONS: ReadonlyMap<number, LivingSituationEntry> = new Map([
  [116, { display: 'Place not meant for habitation', category: 'homeless' }],
  [
    101,
    {
      display:
        'Emergency shelter, including hotel or motel paid for with emergency shelter voucher, or Host Home shelter',
      category: 'homeless',
    },
  ],
  [118, { display: 'Safe Haven', category: 'homeless' }],
  [215, { display: 'Foster care home or foster care group home', category: 'institutional' }],
  [
    206,
    { display: 'Hospital or other residential non-psychiatric medical facility', category: 'institutional' },
  ],
  [207, { display: 'Jail, prison or juvenile detention facility', category: 'institutional' }],
  [225, { display: 'Long-term care facility or nursing home', category: 'institutional' }],
  [204, { display: 'Psychiatric hospital or other psychiatric facility', category: 'institutional' }],
  [205, { display: 'Substance abuse treatment facility or detox center', category: 'institutional' }],
  [
    302,
    {
      display: 'Transitional housing for homeless persons (including homeless youth)',
      category: 'temporary',
    },
  ],
  [329, { display: 'Residential project or halfway house with no homeless criteria', category: 'temporary' }],
  [314, { display: 'Hotel or motel paid for without emergency shelter voucher', category: 'temporary' }],
  [332, { display: 'Host Home (non-crisis)', category: 'temporary' }],
  [312, { display: 'Staying or living with family, temporary tenure', category: 'temporary' }],
  [313, { display: 'Staying or living with friends, temporary tenure', category: 'temporary' }],
  [327, { display: 'Moved from one HOPWA funded project to HOPWA TH', category: 'temporary' }],
  [336, { display: "Staying or living in a friend's room, apartment or house", category: 'temporary' }],
  [
    335,
    { display: "Staying or living in a family member's room, apartment or house", category: 'temporary' },
  ],
  [422, { display: 'Staying or living with family, permanent tenure', category: 'permanent' }],
  [423, { display: 'Staying or living with friends, permanent tenure', category: 'permanent' }],
  [426, { display: 'Moved from one HOPWA funded project to HOPWA PH', category: 'permanent' }],
  [410, { display: 'Rental by client, no ongoing housing subsidy', category: 'permanent' }],
  [435, { display: 'Rental by client, with ongoing housing subsidy', category: 'permanent' }],
  [421, { display: 'Owned by client, with ongoing housing subsidy', category: 'permanent' }],
  [411, { display: 'Owned by client, no ongoing housing subsidy', category: 'permanent' }],
  [17, { display: 'Other', category: 'other' }],
  [24, { display: 'Deceased', category: 'other' }],
  [30, { display: 'No exit interview completed', category: 'unknown' }],
  [37, { display: 'Worker unable to determine', category: 'unknown' }],
  [8, { display: "Client doesn't know", category: 'unknown' }],
  [9, { display: 'Client prefers not to answer', category: 'unknown' }],
  [99, { display: 'Data not collected', category: 'unknown' }],
]);

/**
 * HUD's crosswalk from the FY2022 (and FY2020) living situation codes to the FY2024 list, for
 * exports whose Export.csv says an older CSVVersion. The response codes (8, 9, 17, 24, 30, 37,
 * 99) did not change; the rental-with-subsidy codes all became 435.
 */
export const FY2022_LIVING_SITUATIONS: ReadonlyMap<number, number> = new Map([
  [16, 116],
  [1, 101],
  [18, 118],
  [15, 215],
  [6, 206],
  [7, 207],
  [25, 225],
  [4, 204],
  [5, 205],
  [29, 329],
  [14, 314],
  [2, 302],
  [32, 332],
  [13, 313],
  [36, 336],
  [12, 312],
  [35, 335],
  [27, 327],
  [22, 422],
  [23, 423],
  [26, 426],
  [10, 410],
  [21, 421],
  [11, 411],
  [28, 435],
  [19, 435],
  [3, 435],
  [31, 435],
  [33, 435],
  [34, 435],
  [20, 435],
  [30, 30],
  [17, 17],
  [24, 24],
  [37, 37],
  [8, 8],
  [9, 9],
  [99, 99],
]);

/** List 1.4 "RecordType" of Services.csv. */
export const RECORD_TYPES: ReadonlyMap<number, string> = new Map([
  [141, 'PATH Service'],
  [142, 'RHY Service Connections'],
  [143, 'HOPWA Service'],
  [144, 'SSVF Service'],
  [151, 'HOPWA Financial Assistance'],
  [152, 'SSVF Financial Assistance'],
  [161, 'PATH Referral'],
  [200, 'Bed Night'],
  [210, 'HUD-VASH OTH Voucher Tracking'],
  [300, 'Moving On Assistance'],
]);

/** List 2.02.6 "ProjectType" of Project.csv. */
export const PROJECT_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'Emergency Shelter - Entry Exit'],
  [1, 'Emergency Shelter - Night-by-Night'],
  [2, 'Transitional Housing'],
  [3, 'PH - Permanent Supportive Housing'],
  [4, 'Street Outreach'],
  [6, 'Services Only'],
  [7, 'Other'],
  [8, 'Safe Haven'],
  [9, 'PH - Housing Only'],
  [10, 'PH - Housing with Services (no disability required for entry)'],
  [11, 'Day Shelter'],
  [12, 'Homelessness Prevention'],
  [13, 'PH - Rapid Re-Housing'],
  [14, 'Coordinated Entry'],
]);

/**
 * Lists 3.01.5, 3.02.2 and 3.03.2 (NameDataQuality, SSNDataQuality, DOBDataQuality) share their
 * codes: 1 full, 2 partial/approximate, 8 client doesn't know, 9 prefers not to answer, 99 not
 * collected.
 */
export const DATA_QUALITY_CODES: readonly number[] = [1, 2, 8, 9, 99];
