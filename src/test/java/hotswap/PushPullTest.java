package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Push and pull through the real CLI process, from a working directory other than the app's. */
class PushPullTest extends AppAndClientTest {
    @Test
    void pushFromFileReplacesTheLiveDatabase() throws Exception {
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "x", "y", "z");
        Fixtures.Result r = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("OK\n", r.out());
        assertEquals("Swapping database...\n", r.stderr());
        assertEquals("[\"x\",\"y\",\"z\"]", app.get("/items").body());
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    @Test
    void pullToFileThenStdoutGivesTheSameSnapshot() throws Exception {
        Fixtures.Result toFile = app.cli(client, null, "cp", app.db.toString(), "backup.sqlite3");
        assertEquals(0, toFile.exit(), toFile.toString());
        assertEquals("", toFile.out());
        assertEquals("OK\n", toFile.stderr());
        assertEquals(List.of("alpha", "bravo"), Fixtures.query(client.resolve("backup.sqlite3"), "SELECT name FROM items ORDER BY id"));

        Fixtures.Result toStdout = app.cli(client, null, "cp", app.db.toString(), "-");
        assertEquals(0, toStdout.exit(), toStdout.toString());
        assertEquals("", toStdout.stderr());
        assertArrayEquals(Files.readAllBytes(client.resolve("backup.sqlite3")), toStdout.stdout());
    }
}
