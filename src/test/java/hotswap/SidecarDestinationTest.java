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
}
