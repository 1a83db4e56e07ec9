package org.carecoord.fhirserver;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class H2ResourceIdLookupRewriteTest {

    /** HAPI 8.8's id lookup as Hibernate prints it, for two references. */
    private static final String LOOKUP_OF_TWO =
            "select rt1_0.res_id,rt1_0.res_type,rt1_0.fhir_id,rt1_0.res_deleted_at,rt1_0.partition_id"
                    + " from hfj_resource rt1_0"
                    + " where (rt1_0.res_type=? and rt1_0.fhir_id=? or rt1_0.res_type=? and rt1_0.fhir_id=?)";

    private final H2ResourceIdLookupRewrite rewrite = new H2ResourceIdLookupRewrite();
    private static Connection h2;

    @BeforeAll
    static void seed() throws SQLException {
        h2 = DriverManager.getConnection("jdbc:h2:mem:lookup-rewrite", "sa", "");
        try (Statement s = h2.createStatement()) {
            s.execute("create table hfj_resource (res_id bigint primary key, res_type varchar(40) not null,"
                    + " fhir_id varchar(64) not null, res_deleted_at timestamp, partition_id int)");
            s.execute("create unique index idx_res_type_fhir_id on hfj_resource (res_type, fhir_id)");
        }
        try (PreparedStatement insert = h2.prepareStatement("insert into hfj_resource values (?, ?, ?, null, null)")) {
            String[] types = {"Patient", "CarePlan", "Task", "Organization"};
            for (int i = 0; i < 2000; i++) {
                insert.setLong(1, i);
                insert.setString(2, types[i % types.length]);
                insert.setString(3, "id-" + (i / types.length));
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    @AfterAll
    static void close() throws SQLException {
        h2.close();
    }

    @Test
    void theLookupOfSeveralReferencesBecomesARowValueIn() {
        assertEquals(
                "select rt1_0.res_id,rt1_0.res_type,rt1_0.fhir_id,rt1_0.res_deleted_at,rt1_0.partition_id"
                        + " from hfj_resource rt1_0"
                        + " where ((rt1_0.res_type,rt1_0.fhir_id) in ((?,?),(?,?)))",
                rewrite.inspect(LOOKUP_OF_TWO));
        String ofThree = LOOKUP_OF_TWO.replace(")", " or rt1_0.res_type=? and rt1_0.fhir_id=?)");
        assertTrue(rewrite.inspect(ofThree).endsWith(" in ((?,?),(?,?),(?,?)))"), rewrite.inspect(ofThree));
    }

    @Test
    void aLookupOfHundredsOfReferencesIsRewrittenToo() {
        String many = lookupOf(800);
        String rewritten = rewrite.inspect(many);
        assertTrue(rewritten.endsWith(",(?,?)))"));
        assertEquals(800 * 2, rewritten.chars().filter(c -> c == '?').count());
    }

    @Test
    void everyOtherStatementPassesUnchanged() {
        List<String> others = List.of(
                // one pair is served from the index as it is
                "select rt1_0.res_id from hfj_resource rt1_0 where (rt1_0.res_type=? and rt1_0.fhir_id=?)",
                // ids without a type
                "select rt1_0.res_id from hfj_resource rt1_0 where (rt1_0.fhir_id=? or rt1_0.fhir_id=?)",
                // a partition condition beside the pairs
                "select rt1_0.res_id from hfj_resource rt1_0 where rt1_0.partition_id is null and"
                        + " (rt1_0.res_type=? and rt1_0.fhir_id=? or rt1_0.res_type=? and rt1_0.fhir_id=?)",
                LOOKUP_OF_TWO + " and rt1_0.res_deleted_at is null",
                "select rt1_0.res_id from hfj_resource rt1_0 where (rt1_0.res_type=? and rt2_0.fhir_id=?"
                        + " or rt1_0.res_type=? and rt1_0.fhir_id=?)",
                "insert into hfj_resource (res_id) values (?)",
                "select t.res_id from hfj_res_ver t where (t.res_type=? and t.fhir_id=? or t.res_type=? and t.fhir_id=?)");
        for (String sql : others) {
            assertEquals(sql, rewrite.inspect(sql));
        }
    }

    @Test
    void onH2TheRewrittenLookupFindsTheSameRowsFromTheIndex() throws SQLException {
        Object[] params = {"Patient", "id-3", "Task", "id-40", "CarePlan", "no-such", "Organization", "id-499"};
        String original = lookupOf(4);
        String rewritten = rewrite.inspect(original);

        List<String> before = rows(original, params);
        assertEquals(List.of("12 Patient id-3", "162 Task id-40", "1999 Organization id-499"), before);
        assertEquals(before, rows(rewritten, params));

        // Why the rewrite exists: H2 reads the OR of pairs without an index condition. Should a
        // newer H2 serve it from the index, this fails and the rewrite can go.
        // H2 writes the index it reads and, after a colon, the condition it seeks in it.
        assertFalse(indexUse(original).contains(":"), plan(original));
        assertTrue(indexUse(rewritten).startsWith("PUBLIC.IDX_RES_TYPE_FHIR_ID:  IN(ROW (?1, ?2)"), plan(rewritten));
    }

    private static String lookupOf(int pairs) {
        StringBuilder sql = new StringBuilder(
                "select rt1_0.res_id,rt1_0.res_type,rt1_0.fhir_id from hfj_resource rt1_0 where (");
        for (int i = 0; i < pairs; i++) {
            sql.append(i == 0 ? "" : " or ").append("rt1_0.res_type=? and rt1_0.fhir_id=?");
        }
        return sql.append(')').toString();
    }

    private static List<String> rows(String sql, Object[] params) throws SQLException {
        List<String> found = new ArrayList<>();
        try (PreparedStatement query = h2.prepareStatement(sql + " order by rt1_0.res_id")) {
            for (int i = 0; i < params.length; i++) {
                query.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = query.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getString(3));
                }
            }
        }
        return found;
    }

    private static String indexUse(String sql) throws SQLException {
        String plan = plan(sql);
        return plan.substring(plan.indexOf("/* ") + 3, plan.indexOf(" */"));
    }

    private static String plan(String sql) throws SQLException {
        try (PreparedStatement explain = h2.prepareStatement("explain " + sql)) {
            for (int i = 1; i <= explain.getParameterMetaData().getParameterCount(); i++) {
                explain.setString(i, "x");
            }
            try (ResultSet rs = explain.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
