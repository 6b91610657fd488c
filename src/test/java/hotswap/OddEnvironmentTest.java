package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The unlucky operator: the CLI run with its standard streams closed or full, odd bytes in its
 * arguments, odd environment variables. Whatever happens, what the client says must be what
 * happened to the database.
 */
class OddEnvironmentTest extends AppAndClientTest {
    /**
     * A push whose {@code OK} cannot be written ({@code >&-}, or a log on a full disk: {@code >> /dev/full})
     * has still replaced the database: the client must not report a failure that says nothing changed.
     */
    @ParameterizedTest(name = "stdout {0}")
    @ValueSource(strings = {">&-", ">/dev/full"})
    void aPushWhoseOkCannotBeWrittenSaysTheDatabaseWasReplaced(String redirect) throws Exception {
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "fresh");
        Fixtures.Result r = Fixtures.run(client, app.env(), null, List.of("sh", "-c",
                "exec '" + Fixtures.java() + "' -jar '" + Fixtures.jar() + "' cp new.sqlite3 '" + app.db + "' " + redirect));
        assertEquals("[\"fresh\"]", app.get("/items").body(), "the push went through: " + r);
        assertEquals(1, r.exit(), r.toString()); // standard output failed, as with any tool
        String error = r.stderr().lines().filter(l -> l.startsWith("ERROR: ")).findFirst().orElse("");
        assertTrue(error.contains("the push succeeded: " + app.db + " now holds new.sqlite3")
                && error.contains("standard output"), "the error must say that the database was replaced: " + r);
        assertFalse(error.contains("nothing changed"), r.toString());
    }
}
