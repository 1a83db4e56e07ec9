package org.carecoord.fhirserver;

import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The server's few knobs, read from environment variables (Spring's Environment also accepts
 * them as -D system properties or --args). See README.md for the table.
 */
@Component
public class HubSettings {

    private final Environment env;

    public HubSettings(Environment env) {
        this.env = env;
    }

    public int port() {
        return Integer.parseInt(env.getProperty("FHIR_PORT", "8080"));
    }

    /** Data folder for the H2 database (relative paths resolve against the working directory). */
    public File dataDir() {
        return new File(env.getProperty("FHIR_DATA_DIR", "./data")).getAbsoluteFile();
    }

    /** jdbc:postgresql://... or null for the default H2 file database. */
    public String dbUrl() {
        String url = env.getProperty("FHIR_DB_URL", "").trim();
        return url.isEmpty() ? null : url;
    }

    public String dbUsername() {
        return env.getProperty("FHIR_DB_USERNAME", "postgres");
    }

    public String dbPassword() {
        return env.getProperty("FHIR_DB_PASSWORD", "");
    }

    public int defaultPageSize() {
        return Integer.parseInt(env.getProperty("FHIR_DEFAULT_PAGE_SIZE", "50"));
    }

    public int maxPageSize() {
        return Integer.parseInt(env.getProperty("FHIR_MAX_PAGE_SIZE", "500"));
    }

    /**
     * FHIR_REQUIRED_PROFILES, e.g.
     * {@code Task=https://carecoord.example.org/fhir/StructureDefinition/hub-task,CarePlan=...}.
     * Returns resource type -> profile URL (empty map when unset).
     */
    public Map<String, String> requiredProfiles() {
        Map<String, String> result = new LinkedHashMap<>();
        String raw = env.getProperty("FHIR_REQUIRED_PROFILES", "");
        for (String pair : raw.split(",")) {
            String p = pair.trim();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0 || eq == p.length() - 1) {
                throw new IllegalArgumentException(
                        "FHIR_REQUIRED_PROFILES entry must look like Type=profileUrl, got: " + p);
            }
            result.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim());
        }
        return result;
    }
}
