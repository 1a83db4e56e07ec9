import { Router } from 'express';
import type { CapabilityStatement } from 'fhir/r4.js';
import { MESSAGE_EVENTS } from '../../adapters/fhir-message/types.js';
import { sendFhir } from '../fhir-format.js';
import { READABLE_TYPES } from './partner-read.routes.js';
import { BACKPORT } from '../../subscriptions/notification-bundle.js';
import { TOPIC_INFO } from '../../subscriptions/topics.js';

export interface FhirMetadataDeps {
  readonly publicUrl: string;
  /** SMART Backend Services is on: tokens are required, and partners read through the hub. */
  readonly smart: boolean;
}

/**
 * `GET /fhir/metadata`: a CapabilityStatement of what the hub itself serves at its FHIR base (not
 * the shared server behind it): transactions and batches, `$process-message`, the partner reads,
 * XML and JSON, and with SMART the token endpoint (`oauth-uris`). Open to anyone, as FHIR says.
 * @see https://hl7.org/fhir/R4/http.html#capabilities
 */
export function fhirMetadataRoutes(deps: FhirMetadataDeps): Router {
  const router = Router();
  router.get('/fhir/metadata', (req, res) => {
    sendFhir(req, res, 200, capabilityStatement(deps));
  });
  return router;
}

export function capabilityStatement(deps: FhirMetadataDeps): CapabilityStatement {
  const base = `${deps.publicUrl}/fhir`;
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Care coordination hub' },
    implementation: { description: 'Care coordination hub: partner FHIR surface', url: base },
    fhirVersion: '4.0.1',
    format: ['json', 'xml'],
    rest: [
      {
        mode: 'server',
        documentation:
          'POST a transaction or batch Bundle to the base; POST a message Bundle to $process-message. The sender is the partner of the access token.',
        ...(deps.smart
          ? {
              security: {
                service: [
                  {
                    coding: [
                      {
                        system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                        code: 'SMART-on-FHIR',
                      },
                    ],
                  },
                ],
                extension: [
                  {
                    url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
                    extension: [{ url: 'token', valueUri: `${deps.publicUrl}/auth/token` }],
                  },
                ],
              },
            }
          : {}),
        // Partners read through the hub only with SMART on (the care team and consent decide).
        resource: [
          ...(deps.smart
            ? READABLE_TYPES.map((type) => ({ type, interaction: [{ code: 'read' as const }] }))
            : []),
          // Topic-based subscriptions (Subscriptions R5 Backport IG on R4): the topics it offers.
          {
            type: 'Subscription',
            supportedProfile: [`${BACKPORT}/backport-subscription`],
            extension: Object.keys(TOPIC_INFO).map((url) => ({
              url: `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`,
              valueCanonical: url,
            })),
            interaction: [{ code: 'create' }, { code: 'read' }, { code: 'delete' }],
            operation: [
              {
                name: 'status',
                definition:
                  'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status',
              },
              {
                name: 'events',
                definition:
                  'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events',
              },
              {
                name: 'topic-list',
                definition:
                  'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/Backport-subscriptiontopic-list',
              },
            ],
          },
        ],
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
        operation: [
          {
            name: 'process-message',
            definition: 'http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message',
          },
        ],
      },
    ],
    messaging: [
      {
        endpoint: [
          {
            protocol: { system: 'http://terminology.hl7.org/CodeSystem/message-transport', code: 'http' },
            address: `${base}/$process-message`,
          },
        ],
        documentation: `Events (MessageHeader.eventCoding, hub-message-event): ${MESSAGE_EVENTS.join(', ')}`,
      },
    ],
  };
}
