import { parseFhirMessage } from '../adapters/fhir-message/parse-message.js';
import { fhirMessageToMapped } from '../mappers/fhir-message/message-to-fhir.js';
import { handler, type FormatHandlers } from './formats.js';

const FHIR_JSON = ['application/fhir+json', 'application/json'];

/** Every inbound format the hub reads, with its adapter and mapper. */
export function defaultFormats(): FormatHandlers {
  return {
    'fhir-message': handler({ contentTypes: FHIR_JSON, parse: parseFhirMessage, map: fhirMessageToMapped }),
  };
}
