package org.carecoord.fhirserver;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import ca.uhn.fhir.rest.server.exceptions.ResourceVersionConflictException;
import org.springframework.stereotype.Component;

/**
 * FHIR says a stale If-Match (version-aware update/patch) is answered with 412 Precondition Failed;
 * HAPI JPA answers 409 Conflict. The hub relies on 412, so the two HAPI errors that mean exactly
 * "the If-Match / version-specific target is not the current version" are re-issued as 412:
 * HAPI-0989 (update) and HAPI-0974 (patch). Other 409s (delete conflicts, concurrent-write
 * collisions) stay 409.
 */
@Component
@Interceptor
public class IfMatchPreconditionInterceptor {

    @Hook(Pointcut.SERVER_PRE_PROCESS_OUTGOING_EXCEPTION)
    public BaseServerResponseException toPreconditionFailed(Throwable exception) {
        for (Throwable t = exception; t != null; t = t.getCause()) {
            if (t instanceof ResourceVersionConflictException conflict) {
                String message = conflict.getMessage() == null ? "" : conflict.getMessage();
                if (message.contains("HAPI-0989") || message.contains("HAPI-0974")) {
                    return new PreconditionFailedException(message, conflict.getOperationOutcome());
                }
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null; // leave every other exception as it is
    }
}
