package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code hotswap cp DB - | head -c 100}: the reader closes the pipe early. The client's whole error
 * is {@code ERROR: Broken pipe}: not what broke (standard output), not whether anything changed, not
 * that what reached the pipe is no whole snapshot, against the README's promise that an error says
 * what happened, whether anything changed, and what to do.
 */
class ClosedStdoutTest extends AppAndClientTest {
    @Test
    void aPullToAPipeItsReaderClosedSaysSoAndThatNothingChanged() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + app.db); Statement s = c.createStatement()) {
            s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000) "
                    + "INSERT INTO items(name) SELECT printf('%.1000c', 'x') FROM n");
        }
        Path err = client.resolve("err.txt");
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("bash", "-c",
                "'" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp '" + app.db + "' - 2>'" + err
                        + "' | head -c 100 >/dev/null; exit ${PIPESTATUS[0]}"));
        String stderr = Files.readString(err);
        assertEquals(1, r.exit(), stderr);
        assertTrue(stderr.startsWith("ERROR: ") && stderr.contains("standard output") && stderr.contains("not a whole snapshot"),
                "the error must say what broke and what it means: " + stderr);
    }
}
