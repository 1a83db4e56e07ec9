package org.carecoord.fhirserver;

import org.hibernate.resource.jdbc.spi.StatementInspector;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * On H2 only: rewrites HAPI's lookup of resources by type and id so that H2 answers it from the
 * (RES_TYPE, FHIR_ID) index instead of reading every row of HFJ_RESOURCE.
 *
 * <p>Before a transaction's writes HAPI resolves every reference it holds by id in one query,
 * {@code where (t.res_type=? and t.fhir_id=? or t.res_type=? and t.fhir_id=? ...)}. PostgreSQL
 * serves that OR of pairs from the index; H2's optimizer does not, and scans the whole table, so
 * each transaction with two or more references costs time in proportion to everything stored.
 * The same condition as a row-value IN, {@code (t.res_type,t.fhir_id) in ((?,?),(?,?))}, is one
 * H2 serves from the index. The parameters keep their order (type, id, type, id, ...), so the
 * rewrite is textual; any other statement, including this lookup in another shape (a partition
 * condition, ids without a type), passes unchanged. fhir-server/README.md ("Database") says more.
 */
public final class H2ResourceIdLookupRewrite implements StatementInspector {

    // Up to the opening parenthesis of the condition; the pairs are then read without a regex, as
    // a lookup can hold hundreds of them.
    private static final Pattern LOOKUP_HEAD =
            Pattern.compile("select [\\w.,]+ from hfj_resource (\\w+) where \\(");

    @Override
    public String inspect(String sql) {
        // Called for every statement: the cheap test first.
        if (!sql.startsWith("select ") || !sql.contains(" from hfj_resource ")) {
            return sql;
        }
        Matcher head = LOOKUP_HEAD.matcher(sql);
        if (!head.lookingAt()) {
            return sql;
        }
        String alias = head.group(1);
        String pair = alias + ".res_type=? and " + alias + ".fhir_id=?";
        String nextPair = " or " + pair;
        int at = head.end();
        if (!sql.startsWith(pair, at)) {
            return sql;
        }
        at += pair.length();
        int pairs = 1;
        while (sql.startsWith(nextPair, at)) {
            at += nextPair.length();
            pairs++;
        }
        // One pair is already served from the index; anything after the closing parenthesis
        // (another condition) is a shape this rewrite does not know.
        if (pairs < 2 || at != sql.length() - 1 || sql.charAt(at) != ')') {
            return sql;
        }
        StringBuilder rewritten = new StringBuilder(head.end() + 40 + pairs * 6)
                .append(sql, 0, head.end())
                .append('(').append(alias).append(".res_type,").append(alias).append(".fhir_id) in (");
        for (int i = 0; i < pairs; i++) {
            rewritten.append(i == 0 ? "(?,?)" : ",(?,?)");
        }
        return rewritten.append("))").toString();
    }
}
