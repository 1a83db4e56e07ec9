package org.hl7.fhir.utilities;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.hl7.fhir.exceptions.FHIRException;

/**
 * Stands in for the class of the same name in {@code org.hl7.fhir.utilities} 6.7.9 (the version HAPI
 * 8.8.0 brings), with the same public methods and answers (its nested {@code OIDInfo} is used by
 * nothing outside it, and is left out). That one reads its 1.5 MB OID registry
 * ({@code oidregistry.csv}) in its constructor, and the validator makes one for every resource it
 * validates: about a quarter of this server's CPU under the hub's writes went there (Java Flight
 * Recorder). This one reads the registry once per process. Our classes come before the libraries
 * on the executable jar's class path, so this class is the one loaded; fhir-server/README.md
 * ("Validation cost") says how to check it is still needed when HAPI is upgraded.
 */
public class OIDUtilities {

  private static final Pattern VALID_OID = Pattern.compile("[0-2](\\.(0|[1-9][0-9]*))+");

  /** Code systems known by OID, for {@link #getUriForOid}. */
  private static final Map<String, String> URI_BY_OID = Map.ofEntries(
      Map.entry("2.16.840.1.113883.6.96", "http://snomed.info/sct"),
      Map.entry("2.16.840.1.113883.6.1", "http://loinc.org"),
      Map.entry("2.16.840.1.113883.6.8", "http://unitsofmeasure.org"),
      Map.entry("2.16.840.1.113883.6.3", "http://hl7.org/fhir/sid/icd-10"),
      Map.entry("2.16.840.1.113883.6.42", "http://hl7.org/fhir/sid/icd-9"),
      Map.entry("2.16.840.1.113883.6.104", "http://hl7.org/fhir/sid/icd-9"),
      Map.entry("2.16.840.1.113883.6.103", "http://hl7.org/fhir/sid/icd-9"),
      Map.entry("2.16.840.1.113883.6.73", "http://www.whocc.no/atc"),
      Map.entry("2.16.840.1.113883.3.26.1.1", "http://ncimeta.nci.nih.gov"),
      Map.entry("2.16.840.1.113883.3.26.1.1.1", "http://ncimeta.nci.nih.gov"),
      Map.entry("2.16.840.1.113883.6.88", "http://www.nlm.nih.gov/research/umls/rxnorm"),
      Map.entry("2.16.840.1.113883.6.59", "http://hl7.org/fhir/sid/cvx"),
      Map.entry("2.16.840.1.113883.12.292", "http://hl7.org/fhir/sid/cvx"),
      Map.entry("2.16.840.1.113883.6.12", "http://www.ama-assn.org/go/cpt"));

  /** The registry's OIDs, read on first use (the holder class loads then), once. */
  private static final class Registry {
    static final Set<String> KNOWN = read();

    private static Set<String> read() {
      Set<String> known = new HashSet<>();
      try (InputStream in = OIDUtilities.class.getClassLoader().getResourceAsStream("oidregistry.csv")) {
        if (in == null) {
          throw new FHIRException("oidregistry.csv is not on the class path");
        }
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        reader.readLine(); // the header
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          String[] fields = line.split(",");
          if (fields.length >= 4) {
            known.add(fields[0].trim());
          }
        }
      } catch (IOException e) {
        throw new FHIRException(e);
      }
      return Set.copyOf(known);
    }
  }

  public OIDUtilities() {
    // The registry is shared: nothing to read per instance.
  }

  public static String getUriForOid(String oid) {
    return oid == null ? null : URI_BY_OID.get(oid);
  }

  public static String oidTail(String id) {
    return id == null || !id.contains(".") ? id : id.substring(id.lastIndexOf('.') + 1);
  }

  public static String oidRoot(String id) {
    return id == null || !id.contains(".") ? id : id.substring(0, id.indexOf('.'));
  }

  public static boolean isValidOID(String oid) {
    return VALID_OID.matcher(oid).matches();
  }

  public boolean isKnownOID(String url) {
    return url != null && url.startsWith("urn:oid:") && Registry.KNOWN.contains(url.substring("urn:oid:".length()));
  }
}
