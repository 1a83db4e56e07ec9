import { parseCrisisUpdate } from '../adapters/crisis-update/parse-crisis-update.js';
import { parseEvvCsv } from '../adapters/evv/parse-evv-csv.js';
import { parseFhirMessage } from '../adapters/fhir-message/parse-message.js';
import { parseFhirTransaction } from '../adapters/fhir-transaction/parse-transaction.js';
import { parseAdtBatch } from '../adapters/hl7v2/parse-adt.js';
import { parseHmisZip } from '../adapters/hmis/parse-hmis.js';
import { parseServicePlan } from '../adapters/service-plan/parse-service-plan.js';
import { crisisUpdateToMapped } from '../mappers/crisis-update/crisis-update-to-fhir.js';
import { evvVisitToMapped } from '../mappers/evv/evv-visit-to-fhir.js';
import { entryFullUrls, fhirMessageToMapped } from '../mappers/fhir-message/message-to-fhir.js';
import { adtToFhir } from '../mappers/hl7v2/adt-to-fhir.js';
import { hmisToFhir } from '../mappers/hmis/hmis-to-fhir.js';
import { servicePlanToMapped } from '../mappers/service-plan/service-plan-to-careplan.js';
import { handler, type FormatHandlers } from './formats.js';
import { FHIR_XML_TYPES } from '../fhir/fhir-xml.js';

const JSON_TYPES = ['application/json', 'application/fhir+json'];
/** FHIR formats read either wire form (README, "FHIR XML"). */
const FHIR_TYPES = [...JSON_TYPES, ...FHIR_XML_TYPES];

/** Every inbound format the hub reads, with its adapter and mapper. */
export function defaultFormats(): FormatHandlers {
  return {
    'fhir-message': handler({ contentTypes: FHIR_TYPES, parse: parseFhirMessage, map: fhirMessageToMapped }),
    // A transaction's resources are FHIR already: the message mapper links and re-points them.
    'fhir-transaction': handler({
      contentTypes: FHIR_TYPES,
      parse: parseFhirTransaction,
      map: fhirMessageToMapped,
      locate: entryFullUrls,
    }),
    'service-plan': handler({ contentTypes: JSON_TYPES, parse: parseServicePlan, map: servicePlanToMapped }),
    'crisis-update': handler({
      contentTypes: JSON_TYPES,
      parse: parseCrisisUpdate,
      map: crisisUpdateToMapped,
    }),
    'hl7v2-adt': handler({
      contentTypes: ['application/hl7-v2', 'x-application/hl7-v2+er7', 'text/plain'],
      parse: (body) => parseAdtBatch(body),
      map: adtToFhir,
    }),
    'evv-csv': handler({ contentTypes: ['text/csv'], parse: parseEvvCsv, map: evvVisitToMapped }),
    'hmis-csv': handler({
      contentTypes: ['application/zip'],
      offThread: true,
      parse: (body) => parseHmisZip(body),
      map: hmisToFhir,
    }),
  };
}
