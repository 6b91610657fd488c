package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** --keep-previous keeps a way back; connections hotswap does not manage block a swap unless --force. */
class SafetyValvesTest extends AppAndClientTest {
    @BeforeEach
    void writeTheNewDatabase() throws Exception {
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
    }

    @Test
    void keepPreviousKeepsTheReplacedDatabaseWithItsLatestWritesAndRollsBack() throws Exception {
        assertEquals(201, app.post("/items", "name=written-just-before").statusCode());
        Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString(), "--keep-previous");
        assertEquals(0, push.exit(), push.toString());
        Path previous = app.db.resolveSibling("production.sqlite3.previous");
        assertTrue(push.stderr().contains("Kept the replaced database as " + previous), push.stderr());
        assertEquals(List.of("alpha", "bravo", "written-just-before"),
                Fixtures.query(previous, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of("ok"), Fixtures.query(previous, "PRAGMA integrity_check"));
        assertEquals("[\"new\"]", app.get("/items").body());

        Fixtures.Result rollback = app.cli(client, null, "cp", previous.toString(), app.db.toString());
        assertEquals(0, rollback.exit(), rollback.toString());
        assertEquals("[\"alpha\",\"bravo\",\"written-just-before\"]", app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void withoutKeepPreviousNothingOfTheOldDatabaseStays() throws Exception {
        Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
        assertEquals(0, push.exit(), push.toString());
        assertFalse(Files.exists(app.db.resolveSibling("production.sqlite3.previous")));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void aConnectionOpenedOutsideHotswapBlocksTheSwapUnlessForced() throws Exception {
        try (Connection foreign = DriverManager.getConnection("jdbc:sqlite:" + app.db)) {
            foreign.createStatement().executeQuery("SELECT count(*) FROM items").close();
            byte[] before = Files.readAllBytes(app.db);

            Fixtures.Result refused = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
            assertEquals(1, refused.exit(), refused.toString());
            assertTrue(refused.stderr().contains("ERROR: connection(s) still open on " + app.db
                    + " that hotswap does not manage ("), refused.stderr());
            assertTrue(refused.stderr().contains("open file handle(s)); nothing changed."), refused.stderr());
            assertTrue(refused.stderr().contains("--force"), refused.stderr());
            assertArrayEquals(before, Files.readAllBytes(app.db));
            assertEquals("[\"alpha\",\"bravo\"]", app.get("/items").body());
            assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));

            Fixtures.Result forced = app.cli(client, null, "cp", "new.sqlite3", app.db.toString(), "--force");
            assertEquals(0, forced.exit(), forced.toString());
            assertEquals("[\"new\"]", app.get("/items").body());
            // The replaced file is freed in the background; one still open is only unlinked, never shrunk under its reader.
            assertEquals(List.of("alpha", "bravo"), names(foreign));
            assertEquals(List.of("ok"), column(foreign, "PRAGMA integrity_check"));
            assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
        }
    }

    @Test
    void aSecondKeepPreviousReplacesTheKeptDatabaseAndLeavesNothingElse() throws Exception {
        assertEquals(0, app.cli(client, null, "cp", "new.sqlite3", app.db.toString(), "--keep-previous").exit());
        Fixtures.itemsDb(client.resolve("newer.sqlite3"), "newer");
        Fixtures.Result second = app.cli(client, null, "cp", "newer.sqlite3", app.db.toString(), "--keep-previous");
        assertEquals(0, second.exit(), second.toString());
        assertEquals("[\"newer\"]", app.get("/items").body());
        Path previous = app.db.resolveSibling("production.sqlite3.previous");
        assertEquals(List.of("new"), Fixtures.query(previous, "SELECT name FROM items ORDER BY id"));
        assertEquals(List.of("ok"), Fixtures.query(previous, "PRAGMA integrity_check"));
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    private static List<String> names(Connection c) throws Exception {
        return column(c, "SELECT name FROM items ORDER BY id");
    }

    private static List<String> column(Connection c, String sql) throws Exception {
        List<String> out = new java.util.ArrayList<>();
        try (var s = c.createStatement(); var r = s.executeQuery(sql)) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }
}
