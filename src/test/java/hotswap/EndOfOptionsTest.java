package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Main honours {@code --} (the end of options), but drops the marker before cp sees its arguments:
 * cp then takes a file named {@code -new.sqlite3} after {@code --} for an unknown option, exit 2.
 */
class EndOfOptionsTest extends AppAndClientTest {
    @Test
    void filesWhoseNamesStartWithADashWorkAfterDoubleDash() throws Exception {
        Fixtures.itemsDb(client.resolve("-new.sqlite3"), "new");

        Fixtures.Result push = app.cli(client, null, "cp", "--", "-new.sqlite3", app.db.toString());
        assertEquals(0, push.exit(), push.toString());
        assertEquals(List.of("new"), Fixtures.query(app.db, "SELECT name FROM items"));

        Fixtures.Result pull = app.cli(client, null, "cp", app.db.toString(), "--", "-backup.sqlite3");
        assertEquals(0, pull.exit(), pull.toString());
        assertEquals(List.of("new"), Fixtures.query(client.resolve("-backup.sqlite3"), "SELECT name FROM items"));

        // After --, an option is a path: the copy fails on it instead of taking it for an option.
        Fixtures.Result literal = app.cli(client, null, "cp", app.db.toString(), "--", "--quiet");
        assertEquals(0, literal.exit(), literal.toString());
        assertEquals(true, Files.exists(client.resolve("--quiet")), literal.toString());
    }
}
