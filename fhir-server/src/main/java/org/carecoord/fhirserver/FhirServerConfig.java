package org.carecoord.fhirserver;

import ca.uhn.fhir.broker.api.IChannelNamer;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.api.model.HistoryCountModeEnum;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.subscription.channel.impl.LinkedBlockingChannelFactory;
import ca.uhn.fhir.jpa.subscription.channel.impl.RetryPolicyProvider;
import ca.uhn.fhir.jpa.subscription.match.deliver.email.IEmailSender;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.hl7.fhir.dstu2.model.Subscription.SubscriptionChannelType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

import java.util.Set;

/**
 * What HAPI's JPA configuration expects the application to provide: storage settings,
 * subscription settings, partition settings (none), and the RestfulServer servlet with
 * HAPI's generated resource providers, the system provider (transaction/batch, _history)
 * and the JPA capability statement.
 * <p>
 * Deliberately no IFulltextSearchSvc bean (HAPI's HapiJpaConfig defines one): HAPI takes its mere
 * presence to mean Hibernate Search is running, and ValueSet $expand / terminology code paths then
 * fail with "Hibernate Search was not initialized". Without it they use plain SQL.
 */
@Configuration
public class FhirServerConfig {

    private static final Logger LOG = LoggerFactory.getLogger(FhirServerConfig.class);

    @Bean
    public JpaStorageSettings jpaStorageSettings(HubSettings settings) {
        JpaStorageSettings s = new JpaStorageSettings();
        // The hub writes absolute URLs to other systems; treat our own base URL as local.
        s.setAllowExternalReferences(true);
        s.setTreatBaseUrlsAsLocal(Set.of(
                "http://127.0.0.1:" + settings.port() + "/fhir",
                "http://localhost:" + settings.port() + "/fhir"));
        // Client-assigned ids of any shape (PUT Task/my-id, PUT Patient/123); server ids become UUIDs.
        s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ANY);
        s.setResourceServerIdStrategy(JpaStorageSettings.IdStrategyEnum.UUID);
        s.setAllowMultipleDelete(true);
        s.setExpungeEnabled(true);
        // Never answer a search from a cached result set: the hub reads its own writes immediately.
        s.setReuseCachedSearchResultsForMillis(null);
        // Nor a resource's _history from a cached count: by default HAPI counts a history once a minute
        // and lists no more versions than that count, so a version written since would be missing.
        s.setHistoryCountMode(HistoryCountModeEnum.COUNT_ACCURATE);
        // Full-text (Lucene/Elasticsearch) indexing off.
        s.setHibernateSearchIndexFullText(false);
        s.setHibernateSearchIndexSearchParams(false);
        s.setStoreResourceInHSearchIndex(false);
        return s;
    }

    /**
     * Rest-hook subscriptions only, matched in memory. Subscription resources are activated at once;
     * other changes are persisted as "resource modified" messages at commit and handed to matching/
     * delivery by a poller (durable across a crash), which runs every second instead of HAPI's 5 s.
     */
    @Bean
    public SubscriptionSettings subscriptionSettings() {
        SubscriptionSettings s = new SubscriptionSettings();
        s.addSupportedSubscriptionType(SubscriptionChannelType.RESTHOOK);
        s.setEnableInMemorySubscriptionMatching(true);
        s.setSubscriptionChangeQueuedImmediately(true);
        s.setSubscriptionIntervalInMs(1000);
        return s;
    }

    /** HAPI's in-memory channels, except when a queue is full (fhir-server/README.md, "Subscriptions"). */
    @Bean
    @Primary
    public LinkedBlockingChannelFactory nonStallingChannelFactory(
            IChannelNamer channelNamer, RetryPolicyProvider retryPolicyProvider) {
        return new NonStallingChannelFactory(channelNamer, retryPolicyProvider);
    }

    @Bean
    public PartitionSettings partitionSettings() {
        return new PartitionSettings(); // partitioning disabled
    }

    /** Email subscriptions are not enabled, but HAPI's delivery factory wants a sender bean. */
    @Bean
    public IEmailSender emailSender() {
        return details -> LOG.warn("Email subscription delivery is not supported by this server");
    }

    @Bean
    public DatabaseBackedPagingProvider databaseBackedPagingProvider(HubSettings settings) {
        DatabaseBackedPagingProvider pagingProvider = new DatabaseBackedPagingProvider();
        pagingProvider.setDefaultPageSize(settings.defaultPageSize());
        pagingProvider.setMaximumPageSize(settings.maxPageSize());
        return pagingProvider;
    }

    @Bean
    public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
        return new StaleSearchDeletingSvcImpl();
    }

    @Bean
    public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry daoRegistry) {
        return new DaoRegistryResourceSupportedSvc(daoRegistry);
    }

    @Bean(name = "myResourceCountsCache")
    public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> systemDao) {
        return ResourceCountCacheUtil.newResourceCountCache(systemDao);
    }

    @Bean
    public RestfulServer restfulServer(
            IFhirSystemDao<?, ?> systemDao,
            ResourceProviderFactory resourceProviderFactory,
            IJpaSystemProvider systemProvider,
            JpaStorageSettings storageSettings,
            ISearchParamRegistry searchParamRegistry,
            IValidationSupport validationSupport,
            DatabaseBackedPagingProvider pagingProvider,
            ValueSetOperationProvider valueSetOperationProvider,
            ProfileValidationInterceptor profileValidationInterceptor,
            IfMatchPreconditionInterceptor ifMatchPreconditionInterceptor,
            SubscribedTypesOnlyInterceptor subscribedTypesOnlyInterceptor) {
        // Keep version-specific references (Provenance.target, a Task about CarePlan/1/_history/3):
        // the hub records which version of a plan was changed, delivered and acknowledged.
        systemDao.getContext().getParserOptions().setStripVersionsFromReferences(false);
        RestfulServer server = new RestfulServer(systemDao.getContext());
        // One provider per resource type (CRUD, search, _history, $validate, conditional ops).
        server.registerProviders(resourceProviderFactory.createProviders());
        // transaction/batch bundles, system _history, $meta ...
        server.registerProvider(systemProvider);
        // ValueSet/CodeSystem $expand, $validate-code, $lookup for the hub's terminology.
        server.registerProvider(valueSetOperationProvider);

        JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(
                server, systemDao, storageSettings, searchParamRegistry, validationSupport);
        capabilities.setImplementationDescription("Care coordination hub FHIR server (HAPI FHIR JPA, R4)");
        server.setServerConformanceProvider(capabilities);

        server.setPagingProvider(pagingProvider);
        server.setDefaultResponseEncoding(EncodingEnum.JSON);

        // Profile validation and FHIR_REQUIRED_PROFILES on every create/update (incl. inside bundles).
        server.registerInterceptor(profileValidationInterceptor);
        // Stale If-Match -> 412 (HAPI says 409).
        server.registerInterceptor(ifMatchPreconditionInterceptor);
        // Only changes of a type some Subscription watches enter the subscription pipeline.
        server.registerInterceptor(subscribedTypesOnlyInterceptor);
        return server;
    }
}
