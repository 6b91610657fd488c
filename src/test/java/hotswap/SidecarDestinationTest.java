package hotswap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pull whose destination is a file SQLite keeps beside a managed database (its -wal, -shm or
 * -journal) would rename a database over it: the app's next readers take a database file for its
 * WAL or its shared memory, fail with I/O errors, and the committed transactions the old WAL held
 * are lost. It is refused, and nothing changes.
 */
class SidecarDestinationTest extends AppAndClientTest {
    @Test
    void aPullToTheLiveDatabasesWalShmOrJournalIsRefusedAndChangesNothing() throws Exception {
        for (String name : List.of("written-1", "written-2")) {
            assertEquals(201, app.post("/items", "name=" + name).statusCode());
        }
        Path wal = app.db.resolveSibling(app.db.getFileName() + "-wal");
        assertTrue(Files.size(wal) > 0, "the committed rows are in the WAL");
        for (String suffix : List.of("-wal", "-shm", "-journal")) {
            Path sidecar = app.db.resolveSibling(app.db.getFileName() + suffix);
            byte[] before = Files.exists(sidecar) ? Files.readAllBytes(sidecar) : null;
            Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), sidecar.toString());
            assertEquals(1, r.exit(), r.toString());
            assertTrue(r.stderr().startsWith("ERROR: " + sidecar + " is a file SQLite keeps beside the managed database "
                    + app.db + "; nothing changed"), r.stderr());
            if (before == null) {
                assertTrue(Files.notExists(sidecar), sidecar + " was created");
            } else {
                assertArrayEquals(before, Files.readAllBytes(sidecar), sidecar + " changed");
            }
            assertEquals("[\"alpha\",\"bravo\",\"written-1\",\"written-2\"]", app.get("/items").body());
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }

    /**
     * A -wal beside the destination (left by a process that crashed in it, or a database another
     * app has open) would be read with the pulled file: SQLite would replay its frames over the
     * snapshot, and the pull would print OK for a file that holds other data. It is refused.
     */
    @Test
    void aPullOverAFileWithAWalBesideItIsRefusedAndChangesNothing() throws Exception {
        Path backup = client.resolve("backup.sqlite3");
        Fixtures.itemsDb(backup, "older-backup");
        Path wal = client.resolve("backup.sqlite3-wal");
        byte[] staleWal;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + backup);
             java.sql.Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA wal_autocheckpoint=0");
            s.execute("INSERT INTO items(name) VALUES ('stale')");
            staleWal = Files.readAllBytes(wal); // what a crash at this point leaves
        }
        Files.write(wal, staleWal);
        byte[] before = Files.readAllBytes(backup);
        Fixtures.Result r = app.cli(client, null, "cp", app.db.toString(), "backup.sqlite3");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.stderr().startsWith("ERROR: " + wal.toRealPath() + " is beside " + backup.toRealPath()), r.stderr());
        assertArrayEquals(before, Files.readAllBytes(backup));
        assertArrayEquals(staleWal, Files.readAllBytes(wal));
        assertEquals(List.of(), Fixtures.leftovers(client));
        long deadline = System.nanoTime() + 5_000_000_000L; // the app frees its snapshot once it sees the hang-up
        while (!Fixtures.leftovers(app.db.getParent()).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }
}
