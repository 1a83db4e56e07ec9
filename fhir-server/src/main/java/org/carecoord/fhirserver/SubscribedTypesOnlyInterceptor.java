package org.carecoord.fhirserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.jpa.subscription.match.matcher.subscriber.SubscriptionCriteriaParser;
import ca.uhn.fhir.jpa.subscription.model.ResourceModifiedMessage;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Hands a change to the subscription pipeline only when some Subscription on this server watches
 * its resource type (README, "Subscriptions"). HAPI otherwise stores a "resource modified" message
 * for every resource written, in the write's own transaction, then reads each one back a second
 * later to match it against every subscription: work for nothing for the types no subscription
 * names (Provenance, Communication, Flag, Encounter ... most of what the hub writes).
 * <p>
 * The types watched are read from every Subscription stored here, whatever its status, when the
 * server is ready and every {@link #REFRESH_SECONDS} seconds after; a Subscription written through
 * this server adds its types at once, until a read begun two periods later has seen it stored. Until
 * the first read, and for a Subscription whose criteria name no resource type this server knows
 * (a wildcard, a topic), every change goes through as before.
 */
@Component
@Interceptor
public class SubscribedTypesOnlyInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(SubscribedTypesOnlyInterceptor.class);
    private static final long REFRESH_SECONDS = 10;
    /** Stands for "every type": a Subscription whose criteria this filter cannot narrow. */
    private static final String EVERY_TYPE = "*";

    private final FhirContext fhirContext;
    private final DaoRegistry daoRegistry;
    /** Types named by the Subscriptions stored, as last read; null until the first read. */
    private volatile Set<String> stored;
    /** Types named by Subscriptions written through this server, with when (ms). */
    private final Map<String, Long> written = new ConcurrentHashMap<>();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "subscribed-types");
        t.setDaemon(true);
        return t;
    });

    public SubscribedTypesOnlyInterceptor(FhirContext fhirContext, DaoRegistry daoRegistry) {
        this.fhirContext = fhirContext;
        this.daoRegistry = daoRegistry;
    }

    @EventListener(ApplicationReadyEvent.class)
    public void startReading() {
        refresher.scheduleWithFixedDelay(this::readStored, 0, REFRESH_SECONDS, TimeUnit.SECONDS);
    }

    /** False: no Subscription watches the type, so HAPI neither stores the message nor matches it. */
    @Hook(Pointcut.SUBSCRIPTION_RESOURCE_MODIFIED)
    public boolean watched(ResourceModifiedMessage message) {
        String type = message.getResourceType(fhirContext);
        Set<String> types = stored;
        if (type == null || types == null || "Subscription".equals(type)) {
            return true;
        }
        return types.contains(type) || types.contains(EVERY_TYPE)
                || written.containsKey(type) || written.containsKey(EVERY_TYPE);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
    public void created(IBaseResource resource) {
        noteWritten(resource);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
    public void updated(IBaseResource oldResource, IBaseResource newResource) {
        noteWritten(newResource);
    }

    private void noteWritten(IBaseResource resource) {
        if (resource instanceof Subscription subscription) {
            long now = System.currentTimeMillis();
            typesOf(subscription.getCriteria()).forEach(type -> written.put(type, now));
        }
    }

    private void readStored() {
        try {
            long started = System.currentTimeMillis();
            Set<String> types = new HashSet<>();
            daoRegistry.getResourceDao("Subscription")
                    .searchForResources(SearchParameterMap.newSynchronous(), new SystemRequestDetails())
                    .forEach(r -> types.addAll(typesOf(((Subscription) r).getCriteria())));
            // A Subscription written just before this read began may not have been committed yet:
            // its types are kept until a read begun two periods after it.
            long keptSince = started - TimeUnit.SECONDS.toMillis(2 * REFRESH_SECONDS);
            written.values().removeIf(at -> at < keptSince);
            if (stored == null) {
                LOG.info("Subscription pipeline: changes of {} only (the types Subscriptions here watch)", types);
            }
            stored = Set.copyOf(types);
        } catch (RuntimeException e) {
            LOG.warn("Could not read the stored Subscriptions; every change goes to the pipeline meanwhile", e);
            stored = null;
        }
    }

    /** The resource types a Subscription's criteria name; {@link #EVERY_TYPE} when it cannot tell. */
    private Set<String> typesOf(String criteria) {
        SubscriptionCriteriaParser.SubscriptionCriteria parsed =
                criteria == null ? null : SubscriptionCriteriaParser.parse(criteria);
        if (parsed == null || parsed.getType() == SubscriptionCriteriaParser.TypeEnum.STARTYPE_EXPRESSION) {
            return Set.of(EVERY_TYPE);
        }
        Set<String> types = parsed.getApplicableResourceTypes();
        boolean known = types != null && !types.isEmpty()
                && fhirContext.getResourceTypes().containsAll(types);
        return known ? types : Set.of(EVERY_TYPE);
    }
}
