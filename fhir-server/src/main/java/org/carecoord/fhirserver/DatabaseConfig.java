package org.carecoord.fhirserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect;
import jakarta.persistence.EntityManagerFactory;
import org.apache.commons.dbcp2.BasicDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import java.io.File;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * DataSource, entity manager and transaction manager for HAPI's JPA entities.
 * H2 file database under FHIR_DATA_DIR by default; PostgreSQL when FHIR_DB_URL is a
 * jdbc:postgresql URL. HAPI needs its own Hibernate dialects (they know HAPI's column types
 * and sequences), so the dialect is picked from the JDBC URL.
 */
@Configuration
public class DatabaseConfig {

    private static final Logger LOG = LoggerFactory.getLogger(DatabaseConfig.class);

    private final HubSettings settings;

    public DatabaseConfig(HubSettings settings) {
        this.settings = settings;
    }

    @Bean(destroyMethod = "close")
    public BasicDataSource dataSource() {
        BasicDataSource ds = new BasicDataSource();
        String url = settings.dbUrl();
        if (url == null) {
            File dir = new File(settings.dataDir(), "h2");
            if (!dir.isDirectory() && !dir.mkdirs()) {
                throw new IllegalStateException("Cannot create H2 data folder " + dir.getAbsolutePath());
            }
            // File DB; the JVM shutdown hook of Spring closes the pool, H2 closes with the last connection.
            url = "jdbc:h2:file:" + new File(dir, "hapi").getAbsolutePath() + ";DB_CLOSE_ON_EXIT=FALSE";
            ds.setDriverClassName("org.h2.Driver");
            ds.setUsername("sa");
            ds.setPassword("");
        } else if (url.startsWith("jdbc:postgresql:")) {
            ds.setDriverClassName("org.postgresql.Driver");
            ds.setUsername(settings.dbUsername());
            ds.setPassword(settings.dbPassword());
        } else {
            throw new IllegalStateException("FHIR_DB_URL must be a jdbc:postgresql: URL (or unset for H2), got " + url);
        }
        ds.setUrl(url);
        ds.setMaxTotal(20);
        ds.setMaxWaitMillis(30_000);
        LOG.info("FHIR database: {}", url.replaceAll("password=[^&;]*", "password=***"));
        return ds;
    }

    private boolean isPostgres() {
        return settings.dbUrl() != null;
    }

    @Primary
    @Bean
    public LocalContainerEntityManagerFactoryBean entityManagerFactory(
            ConfigurableListableBeanFactory beanFactory,
            FhirContext fhirContext,
            JpaStorageSettings storageSettings,
            DataSource dataSource) {
        // HAPI's helper registers its entity packages and the bean-aware Hibernate integration.
        LocalContainerEntityManagerFactoryBean emf =
                HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
        Map<String, Object> props = new HashMap<>();
        props.put("hibernate.dialect",
                isPostgres() ? HapiFhirPostgresDialect.class.getName() : HapiFhirH2Dialect.class.getName());
        // Create/upgrade the schema automatically on start.
        props.put("hibernate.hbm2ddl.auto", "update");
        props.put("hibernate.format_sql", "false");
        props.put("hibernate.show_sql", "false");
        props.put("hibernate.jdbc.batch_size", "20");
        if (!isPostgres()) {
            // H2 scans the whole resource table for HAPI's OR-of-pairs id lookup; see the class.
            props.put("hibernate.session_factory.statement_inspector", new H2ResourceIdLookupRewrite());
        }
        props.put("hibernate.cache.use_query_cache", "false");
        props.put("hibernate.cache.use_second_level_cache", "false");
        props.put("hibernate.cache.use_structured_entries", "false");
        props.put("hibernate.cache.use_minimal_puts", "false");
        // No Lucene / Elasticsearch: plain SQL search only.
        props.put("hibernate.search.enabled", "false");
        props.put("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
        props.put("hibernate.implicit_naming_strategy",
                "org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy");
        props.put("hibernate.physical_naming_strategy",
                "org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");
        emf.setPersistenceUnitName("HAPI_PU");
        emf.setJpaPropertyMap(props);
        emf.setDataSource(dataSource);
        return emf;
    }

    @Primary
    @Bean
    public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
        return new JpaTransactionManager(entityManagerFactory);
    }
}
